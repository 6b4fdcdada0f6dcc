// compute.ConsoleDomainConfigurator: serial port 0 bound to a unix socket the handler's console
// proxy dials, plus the pty console KubeVirt declares on it. With serial console logging (off in
// KubeVirt's default cluster configuration, on per VMI with logSerialConsole) qemu also appends
// everything to `<socket>-log`, so output is kept while nobody is connected.
import { serialConsoleSocketPath } from '@kubevirt-ts/shared';
import type { Serial } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const configureConsole: DomainConfigurator = (vmi, spec, ctx) => {
  const devices = vmi.spec.domain.devices;
  if (devices?.autoattachSerialConsole === false) return;
  const port = 0;
  spec.Devices.Consoles = [{ Type: 'pty', Target: { Type: 'serial', Port: port }, Source: null, Alias: null }];
  const socket = serialConsoleSocketPath(vmi.metadata.uid, port, ctx.privateDir);
  const serial: Serial = {
    Type: 'unix',
    Target: { Port: port },
    Source: { Mode: 'bind', Path: socket },
    Alias: null,
    Log: null,
  };
  // isSerialConsoleLogEnabled
  const logged = devices?.logSerialConsole ?? !ctx.serialConsoleLogDisabled;
  if (logged) serial.Log = { File: `${socket}-log`, Append: 'on' };
  spec.Devices.Serials = [serial];
};
