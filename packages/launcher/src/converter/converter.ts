// Convert_v1_VirtualMachineInstance_To_api_Domain followed by the launcher's domain defaults: a VMI
// in, the DomainSpec KubeVirt's launcher would define, out. Pure: paths are named, nothing is made.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { newDomainSpec, setObjectDefaultsDomainSpec, type DomainSpec } from '../api/index.ts';
import { configureBalloon } from './compute/balloon.ts';
import { configureChannels } from './compute/channels.ts';
import { configureClock } from './compute/clock.ts';
import { configureConsole } from './compute/console.ts';
import { configureControllers } from './compute/controllers.ts';
import { configureCPU } from './compute/cpu.ts';
import { adjustDomainForDedicatedCPUs } from './compute/dedicated-cpus.ts';
import { configureGraphics } from './compute/graphics.ts';
import { configureHypervisor } from './compute/hypervisor.ts';
import { configureInputDevices } from './compute/input.ts';
import { configureUsbRedirect } from './compute/usb-redir.ts';
import { configureSound } from './compute/sound.ts';
import { configurePanicDevices } from './compute/panic-devices.ts';
import { configureWatchdog } from './compute/watchdog.ts';
import { configureTPM } from './compute/tpm.ts';
import { configureHypervisorFeatures } from './compute/hypervisor-features.ts';
import { configureMemory, configureMemoryBacking } from './compute/memory.ts';
import { configureMetadata } from './compute/metadata.ts';
import { configureOS } from './compute/os.ts';
import { configureRebootPolicy } from './compute/reboot-policy.ts';
import { configureRNG } from './compute/rng.ts';
import { configureSysInfo } from './compute/sysinfo.ts';
import type { DomainConfigurator } from './configurator.ts';
import { resolveContext, type ConverterContext } from './context.ts';
import { convertDisks } from './disks.ts';
import { ConversionError } from './errors.ts';
import { configureNetwork } from './network/configurator.ts';
import { ioThreadsPlan } from './iothreads.ts';
import { PlacePCIDevicesOnRootComplex, placePCIDevicesOnRootComplex } from './pci-placement.ts';
import { checkSupportedFields } from './supported-fields.ts';
import { configureVirtiofs } from './virtiofs.ts';
import { withDefaults } from './vmi-defaults.ts';

const configureDisks: DomainConfigurator = (vmi, spec, ctx) => {
  spec.Devices.Disks = convertDisks(vmi, ctx);
};

const configureEmulator: DomainConfigurator = (_vmi, spec, ctx) => {
  if (ctx.emulatorPath) spec.Devices.Emulator = ctx.emulatorPath;
};

/** IOThreadsDomainConfigurator: the domain's IOThreads, as many as the disks were given. */
const configureIOThreads: DomainConfigurator = (vmi, spec) => {
  const { total } = ioThreadsPlan(vmi);
  if (total > 0) spec.IOThreads = { IOThreads: total };
};

/** In KubeVirt's builder order, then the parts converter.go does itself. */
const configurators: readonly DomainConfigurator[] = [
  configureMetadata,
  configureNetwork,
  configureTPM,
  configureChannels,
  configureClock,
  configureRNG,
  configureInputDevices,
  configureBalloon,
  configureGraphics,
  configureSound,
  configureWatchdog,
  configureConsole,
  configurePanicDevices,
  configureHypervisorFeatures,
  configureSysInfo,
  configureOS,
  configureVirtiofs,
  configureMemory,
  configureCPU,
  configureIOThreads,
  configureMemoryBacking,
  configureRebootPolicy,
  configureDisks,
  configureUsbRedirect,
  configureControllers,
  // KubeVirt appends the hypervisor's configurator after all others: its "kvm not present" comes last
  configureHypervisor,
  configureEmulator,
];

/**
 * The domain for a VMI. Throws a ConversionError naming the field for anything the converter does not
 * support (see SUPPORTED_FIELDS) or cannot make sense of.
 */
export function convertVMIToDomainSpec(vmi: VirtualMachineInstance, ctx: ConverterContext): DomainSpec {
  checkSupportedFields(vmi);
  const resolved = resolveContext(ctx);
  const defaulted = withDefaults(vmi, resolved);
  if (defaulted.spec.architecture !== resolved.architecture) {
    const arch = JSON.stringify(defaulted.spec.architecture);
    throw new ConversionError('spec.architecture', `${arch} guests are not supported on ${resolved.architecture}`);
  }
  const spec = newDomainSpec();
  for (const configure of configurators) configure(defaulted, spec, resolved);
  if (defaulted.spec.domain.cpu?.dedicatedCpuPlacement) {
    adjustDomainForDedicatedCPUs(defaulted, spec, resolved.topology?.numa_cells ?? [], resolved.cpuSet);
  }
  if (defaulted.metadata.annotations?.[PlacePCIDevicesOnRootComplex] === 'true') placePCIDevicesOnRootComplex(spec);
  setObjectDefaultsDomainSpec(spec, resolved.architecture);
  return spec;
}
