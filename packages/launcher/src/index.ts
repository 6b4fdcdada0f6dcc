// @kubevirt-ts/launcher: the parts of virt-launcher other packages build on (the test bed, bench and
// packaging tests). The programs themselves are the package's bins: main.ts, cli.ts, virt-probe.ts.
export {
  launcherFlags,
  parseLauncherEnv,
  unsupportedFeatures,
  type LauncherEnv,
  type LauncherFlags,
} from './flags.ts';
export {
  LIBVIRT_ETC_DIR,
  LIBVIRT_HOME_DIR,
  LIBVIRT_RUNTIME_DIR,
  setupLibvirt,
  startLibvirt,
  startVirtlog,
  type LibvirtConfig,
  type SetupLibvirtOptions,
} from './libvirt-setup.ts';
export { ConversionError, convertVMIToDomainSpec, type ConverterContext } from './converter/index.ts';
export { quantityToBytes } from './converter/quantity.ts';
export { domainSpecFromXML, domainSpecToXML } from './api/index.ts';
export { DomainManager, type DomainManagerOptions, type LibvirtConnection } from './domain-manager.ts';
export { createLauncherCmdServer, type LauncherServerOptions } from './cmd-server.ts';
