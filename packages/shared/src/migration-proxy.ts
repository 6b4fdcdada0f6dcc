// The migration proxy's names (pkg/virt-handler/migration-proxy): both daemons must agree on them.
// libvirt's peer connection and QEMU's streams leave the source pod through unix sockets the handler
// creates in `<virtShareDir>/migrationproxy`; on the target QEMU listens on the same paths.
import path from 'node:path';

/** The port of QEMU's migration stream (each end's proxy key names it). */
export const LibvirtDirectMigrationPort = 49152;
/** The port of the NBD stream of a block migration. */
export const LibvirtBlockMigrationPort = 49153;

/** GetMigrationPortsList: the streams a migration uses beside libvirt's own connection. */
export function migrationPorts(isBlockMigration: boolean): number[] {
  return isBlockMigration ? [LibvirtDirectMigrationPort, LibvirtBlockMigrationPort] : [LibvirtDirectMigrationPort];
}

/** ConstructProxyKey: the VMI's UID, and the port of the stream when it is not libvirt's connection. */
export function migrationProxyKey(id: string, port = 0): string {
  return port === 0 ? id : `${id}-${port}`;
}

/** SourceUnixFile: the socket of one proxied stream under a launcher's share directory. */
export function migrationSourceUnixFile(baseDir: string, key: string): string {
  return path.join(baseDir, 'migrationproxy', `${key}-source.sock`);
}
