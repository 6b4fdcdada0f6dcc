// @kubevirt-ts/handler: the parts of virt-handler other packages build on (the test bed, bench and
// packaging tests). The program itself is the package's bin, main.ts.
export { handlerFlags, type HandlerFlags } from './flags.ts';
export { DomainWatcher, type DomainWatcherOptions, type K8sEvent } from './domain-watcher.ts';
export { LauncherClients, type LauncherClientsOptions } from './launcher-clients.ts';
export { PodNetworkConfigurator, type NetworkConfigurator, type PodNetworkOptions } from './network/configurator.ts';
export { VirtualMachineController, type VirtualMachineControllerOptions } from './vm-controller.ts';
export { interfacesStatus, requiredGuestAgentCommands } from './vmi-status.ts';
export { MigrationProxyManager, type MigrationTLS } from './migration-proxy.ts';
