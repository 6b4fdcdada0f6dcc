// KubeVirt's AccessCredentialManager (pkg/virt-launcher/virtwrap/access-credentials): watches the
// secrets of the VMI's qemuGuestAgent access credentials where virt-controller mounts them in the
// compute container, and pushes them into the guest through the guest agent — SSH public keys as the
// listed users' authorized_keys, passwords through guest-set-user-password. Every round's outcome is
// the domain's accessCredential metadata, which virt-handler turns into AccessCredentialsSynchronized.
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import * as z from 'zod/mini';
import { DomainQemuAgentCommandTimeout, LibvirtError, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { SecretSourceDir, vmiNameToDomainName, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { guestExec } from './agent/exec.ts';

export { SecretSourceDir };

/** How often a detected secret change is applied (changes landing together are applied once). */
export const RESYNC_CHECK_INTERVAL_MS = 15_000;
/** Everything is applied again on this period, changed or not. */
export const FORCE_RESYNC_INTERVAL_MS = 5 * 60_000;
/** agentGuestExec's timeout. */
const GUEST_EXEC_TIMEOUT_SECONDS = 10;

const secretSource = z.looseObject({ secret: z.optional(z.looseObject({ secretName: z.string() })) });
const accessCredentialSchema = z.looseObject({
  sshPublicKey: z.optional(
    z.looseObject({
      source: secretSource,
      propagationMethod: z.looseObject({
        qemuGuestAgent: z.optional(z.looseObject({ users: z.optional(z.array(z.string())) })),
        noCloud: z.optional(z.looseObject({})),
        configDrive: z.optional(z.looseObject({})),
      }),
    }),
  ),
  userPassword: z.optional(
    z.looseObject({
      source: secretSource,
      propagationMethod: z.looseObject({ qemuGuestAgent: z.optional(z.looseObject({})) }),
    }),
  ),
});
export type AccessCredential = z.infer<typeof accessCredentialSchema>;

/** The VMI's access credentials; a malformed one is an error naming the field. */
export function parseAccessCredentials(vmi: VirtualMachineInstance): AccessCredential[] {
  const parsed = z.safeParse(z.array(accessCredentialSchema), vmi.spec.accessCredentials ?? []);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`invalid spec.accessCredentials[${issue?.path.join('.') ?? ''}]: ${issue?.message ?? 'does not parse'}`);
}

const isSSHPublicKey = (c: AccessCredential) => c.sshPublicKey?.propagationMethod.qemuGuestAgent != null;
const isUserPassword = (c: AccessCredential) => c.userPassword?.propagationMethod.qemuGuestAgent != null;

/** getSecret: the secret of a qemuGuestAgent credential, '' for any other. */
export function credentialSecretName(c: AccessCredential): string {
  if (isSSHPublicKey(c)) return c.sshPublicKey?.source.secret?.secretName ?? '';
  if (isUserPassword(c)) return c.userPassword?.source.secret?.secretName ?? '';
  return '';
}

/** getSecretDir: rendervolumes.go mounts secret S as volume `S-access-cred` under SecretSourceDir. */
export const secretDir = (baseDir: string, secretName: string) => path.join(baseDir, `${secretName}-access-cred`);

/** getSecretDirs: the directories to watch, one per qemuGuestAgent credential with a secret. */
export function secretDirs(creds: readonly AccessCredential[], baseDir: string): string[] {
  return creds.map(credentialSecretName).flatMap((name) => (name === '' ? [] : [secretDir(baseDir, name)]));
}

/** accessCredentialsInfo: what one round applies. */
export interface AccessCredentialsInfo {
  /** secret name → the authorized keys in it */
  secretMap: Map<string, string[]>;
  /** user → the secrets whose keys are theirs */
  userSSHMap: Map<string, string[]>;
  /** user → password */
  userPasswordMap: Map<string, string>;
}

/**
 * The secret's files, as the kubelet's atomic writer lays them out: the `..data` link and the
 * `..<timestamp>` directory behind it are skipped, the per-key links followed.
 */
function secretFiles(dir: string): Array<{ name: string; content: string }> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`error occurred while reading the list of secrets files from the base directory ${dir}: ${errorText(err)}`);
  }
  const files = [];
  // os.ReadDir's order: by name
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.isDirectory() || e.name.startsWith('..')) continue;
    const file = path.join(dir, e.name);
    try {
      files.push({ name: e.name, content: readFileSync(file, 'utf8') });
    } catch (err) {
      throw new Error(`error occurred while reading the access credential secret file [${file}]: ${errorText(err)}`);
    }
  }
  return files;
}

/** readKeysFromDirectory: every non-blank line of every file, trimmed. */
export function readKeysFromDirectory(dir: string): string[] {
  return secretFiles(dir).flatMap((f) =>
    f.content
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  );
}

/** readAndAddPasswordsFromDirectory: each file names a user, its trimmed content is the password. */
export function readPasswordsFromDirectory(dir: string, into: Map<string, string>): void {
  for (const f of secretFiles(dir)) {
    const password = f.content.trim();
    if (password !== '') into.set(f.name, password);
  }
}

/**
 * Step 1 of a round: reads every credential's secret. A credential whose secret cannot be read is an
 * error of its own (reported, the rest still applied); its users stay listed, without keys.
 */
export function readAccessCredentials(
  creds: readonly AccessCredential[],
  baseDir: string,
): { info: AccessCredentialsInfo; errors: string[] } {
  const info: AccessCredentialsInfo = { secretMap: new Map(), userSSHMap: new Map(), userPasswordMap: new Map() };
  const errors: string[] = [];
  for (const c of creds) {
    const name = credentialSecretName(c);
    if (name === '') continue;
    const dir = secretDir(baseDir, name);
    try {
      if (isSSHPublicKey(c)) {
        for (const user of c.sshPublicKey?.propagationMethod.qemuGuestAgent?.users ?? []) {
          info.userSSHMap.set(user, [...(info.userSSHMap.get(user) ?? []), name]);
        }
        const keys = readKeysFromDirectory(dir);
        if (keys.length > 0) info.secretMap.set(name, keys);
      } else if (isUserPassword(c)) {
        readPasswordsFromDirectory(dir, info.userPasswordMap);
      }
    } catch (err) {
      errors.push(errorText(err));
    }
  }
  return { info, errors };
}

/**
 * resolveSSHPublicKeys: the keys of the SSH credentials propagated by cloud-init (`noCloud` or
 * `configDrive`), one entry per secret file ("0", "1", …, a file's whole content), for the metadata.
 */
export function resolveSSHPublicKeys(
  creds: readonly AccessCredential[],
  baseDir: string,
  method: 'noCloud' | 'configDrive',
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const c of creds) {
    if (c.sshPublicKey?.propagationMethod[method] == null) continue;
    const name = c.sshPublicKey.source.secret?.secretName ?? '';
    if (name === '') continue;
    const dir = secretDir(baseDir, name);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw new Error(errorText(err));
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory() || e.name.startsWith('..')) continue;
      let data: string;
      try {
        data = readFileSync(path.join(dir, e.name), 'utf8');
      } catch (err) {
        throw new Error(`Unable to read public keys found at volume: ${dir}/${e.name} error: ${errorText(err)}`);
      }
      if (data !== '') keys.set(String(keys.size), data);
    }
  }
  return keys;
}

/** ReadCloudInitVolumeDataSource's keys for the VMI's cloud-init metadata; its error form when unreadable. */
export function cloudInitPublicKeys(
  vmi: VirtualMachineInstance,
  baseDir: string | undefined,
  method: 'noCloud' | 'configDrive',
): Map<string, string> {
  try {
    return resolveSSHPublicKeys(parseAccessCredentials(vmi), baseDir ?? SecretSourceDir, method);
  } catch (err) {
    throw new Error(`ReadCloudInitVolumeDataSource failed: ${errorText(err)}`);
  }
}

/** A user's keys: those of each of their secrets, in the order the credentials list them. */
export const authorizedKeysOf = (info: AccessCredentialsInfo, user: string): string[] =>
  (info.userSSHMap.get(user) ?? []).flatMap((secret) => info.secretMap.get(secret) ?? []);

/** agentGetUserInfo's parse of a `getent passwd USER` line: home, uid, gid. */
export function parsePasswdEntry(user: string, line: string): { home: string; uid: string; gid: string } {
  const fields = line.trim().split(':');
  if (fields.length < 6) throw new Error(`unable to detect home directory of user ${user}`);
  return { home: fields[5]!, uid: fields[2]!, gid: fields[3]! };
}

/**
 * An error's text as KubeVirt prints it: libvirt-go's virError form for libvirt's errors, Go's
 * *PathError form (`open PATH: no such file or directory`) for a file that cannot be read, the bare
 * errno for a directory that cannot be watched.
 */
export function errorText(err: unknown): string {
  if (err instanceof LibvirtError) return `virError(Code=${err.code}, Domain=${err.domain}, Message='${err.message}')`;
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.path === 'string') {
    const text = /^[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1] ?? e.code;
    // fsnotify's Add answers inotify's bare errno
    return e.syscall === 'watch' ? text : `open ${e.path}: ${text}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** api.AccessCredentialMetadata: one round's outcome. */
export interface AccessCredentialResult {
  Succeeded: boolean;
  Message: string;
}

export type AccessCredentialConnection = Pick<
  Connection,
  'domainLookupByName' | 'domainQemuAgentCommand' | 'domainAuthorizedSSHKeysSet' | 'domainSetUserPassword'
>;

export interface AccessCredentialManagerOptions {
  conn: AccessCredentialConnection;
  logger: Logger;
  /** metadataCache.AccessCredential.Store: the result becomes the domain's metadata. */
  report: (result: AccessCredentialResult) => void;
  /** The Warning event about the deprecated guest-file flow. */
  sendWarning: (vmi: VirtualMachineInstance, reason: string, message: string) => void;
  secretBaseDir?: string;
  resyncCheckIntervalMs?: number;
  forceResyncIntervalMs?: number;
}

const openReturn = z.looseObject({ return: z.number() });
const readReturn = z.looseObject({ return: z.looseObject({ count: z.number(), 'buf-b64': z.optional(z.string()) }) });

const fileOpen = (file: string, mode: 'r' | 'w') => JSON.stringify({ execute: 'guest-file-open', arguments: { path: file, mode } });

/** An agent's JSON reply checked against what the flow reads of it. */
function agentReply<T>(schema: z.ZodMiniType<T>, reply: string): T {
  const r = z.safeParse(schema, JSON.parse(reply));
  if (r.success) return r.data;
  throw new Error(`unexpected guest agent reply: ${reply}`);
}

/** The deprecated flow's event (reason AccessCredentialsSyncSuccess). */
const DEPRECATED_FLOW_MESSAGE =
  'Used deprecated method to set SSH keys. It will be removed in a future release. Update qemu guest agent to 5.2 or newer to keep SSH key injection working.';

export class AccessCredentialManager {
  readonly #o: AccessCredentialManagerOptions;
  readonly #baseDir: string;
  #watchers: FSWatcher[] = [];
  #timers: NodeJS.Timeout[] = [];
  #round: Promise<void> | undefined;
  #reload = true;
  #fileChangeDetected = true;
  #eventSent = false;

  constructor(opts: AccessCredentialManagerOptions) {
    this.#o = opts;
    this.#baseDir = opts.secretBaseDir ?? SecretSourceDir;
  }

  get started(): boolean {
    return this.#watchers.length > 0;
  }

  /**
   * HandleQemuAgentAccessCredentials: starts watching the VMI's credential secrets (once; nothing to
   * do without any). A secret directory that is not there fails the start, as fsnotify's Add does.
   */
  handleQemuAgentAccessCredentials(vmi: VirtualMachineInstance): void {
    if (this.started) return;
    const creds = parseAccessCredentials(vmi);
    const dirs = secretDirs(creds, this.#baseDir);
    if (dirs.length === 0) return;
    const watchers: FSWatcher[] = [];
    try {
      for (const dir of dirs) {
        const w = watch(dir, () => {
          this.#fileChangeDetected = true;
          this.#wake(vmi, creds);
        });
        w.on('error', (err) => this.#o.logger.error({ reason: errorText(err) }, 'Error encountered while watching downward api secret'));
        watchers.push(w);
      }
    } catch (err) {
      for (const w of watchers) w.close();
      throw new Error(errorText(err));
    }
    this.#watchers = watchers;
    this.#reload = true;
    this.#fileChangeDetected = true;
    const tick = setInterval(() => {
      if (this.#fileChangeDetected) {
        this.#reload = true;
        this.#o.logger.info('Reloading access credentials because secret changed');
      }
      this.#wake(vmi, creds);
    }, this.#o.resyncCheckIntervalMs ?? RESYNC_CHECK_INTERVAL_MS);
    const resync = setInterval(() => {
      this.#reload = true;
      this.#o.logger.info('Resyncing access credentials due to recurring resync period');
      this.#wake(vmi, creds);
    }, this.#o.forceResyncIntervalMs ?? FORCE_RESYNC_INTERVAL_MS);
    tick.unref();
    resync.unref();
    this.#timers = [tick, resync];
  }

  /** Stops watching; a round under way finishes. */
  async stop(): Promise<void> {
    for (const w of this.#watchers) w.close();
    for (const t of this.#timers) clearInterval(t);
    this.#watchers = [];
    this.#timers = [];
    await this.#round;
  }

  /** watchSecrets' loop body: one round at a time, only while a reload is due. */
  #wake(vmi: VirtualMachineInstance, creds: readonly AccessCredential[]): void {
    if (!this.#reload || this.#round || !this.started) return;
    this.#fileChangeDetected = false;
    this.#round = this.reloadCredentialFiles(vmi, creds)
      .then((again) => {
        this.#reload = again;
      })
      .catch((err: unknown) => {
        this.#reload = true;
        this.#o.logger.error({ reason: errorText(err) }, 'Error encountered');
      })
      .finally(() => {
        this.#round = undefined;
      });
  }

  /** One round: answers whether it must run again (something failed). */
  async reloadCredentialFiles(vmi: VirtualMachineInstance, creds: readonly AccessCredential[]): Promise<boolean> {
    const log = this.#o.logger;
    const domName = vmiNameToDomainName(vmi.metadata.namespace, vmi.metadata.name);
    let dom: VirDomain;
    try {
      dom = await this.#o.conn.domainLookupByName(domName);
      await this.#agentCommand(dom, '{"execute":"guest-ping"}');
    } catch {
      this.#reportResult(vmi, false, 'Guest agent is offline', false);
      return true;
    }
    let reload = false;
    let reportedErr = false;
    let usedDeprecatedFlow = false;

    const { info, errors } = readAccessCredentials(creds, this.#baseDir);
    for (const message of errors) {
      reload = true;
      reportedErr = true;
      log.error({ reason: message }, 'Error encountered');
      this.#reportResult(vmi, false, message, false);
    }

    for (const user of info.userSSHMap.keys()) {
      try {
        if (await this.#setAuthorizedKeys(dom, user, authorizedKeysOf(info, user))) usedDeprecatedFlow = true;
      } catch (err) {
        reload = true;
        reportedErr = true;
        log.error({ reason: errorText(err) }, 'Error encountered writing access credentials using guest agent');
        this.#reportResult(
          vmi,
          false,
          `Error encountered writing ssh pub key access credentials for user [${user}]: ${errorText(err)}`,
          false,
        );
      }
    }

    for (const [user, password] of info.userPasswordMap) {
      try {
        await this.#o.conn.domainSetUserPassword(dom, user, password, 0);
      } catch (err) {
        reload = true;
        reportedErr = true;
        log.error({ reason: errorText(err) }, `Error encountered setting password for user [${user}]`);
        this.#reportResult(vmi, false, `Error encountered setting password for user [${user}]: ${errorText(err)}`, false);
      }
    }
    if (!reportedErr) this.#reportResult(vmi, true, '', usedDeprecatedFlow);
    return reload;
  }

  #reportResult(vmi: VirtualMachineInstance, succeeded: boolean, message: string, usedDeprecatedFlow: boolean): void {
    this.#o.report({ Succeeded: succeeded, Message: message });
    if (!succeeded || !usedDeprecatedFlow) this.#eventSent = false;
    if (succeeded && usedDeprecatedFlow && !this.#eventSent) {
      this.#o.sendWarning(vmi, 'AccessCredentialsSyncSuccess', DEPRECATED_FLOW_MESSAGE);
      this.#eventSent = true;
    }
  }

  #agentCommand(dom: VirDomain, command: string): Promise<string> {
    return this.#o.conn.domainQemuAgentCommand(dom, command, DomainQemuAgentCommandTimeout.DEFAULT).then((r) => r ?? '{}');
  }

  #exec(dom: VirDomain, command: string, args: readonly string[]): Promise<string> {
    return guestExec(
      (execute, a) => this.#agentCommand(dom, JSON.stringify({ execute, arguments: a })),
      command,
      args,
      GUEST_EXEC_TIMEOUT_SECONDS,
    );
  }

  /**
   * agentSetAuthorizedKeys: libvirt's guest-ssh-add-authorized-keys replacing the file (qemu-ga 5.2+);
   * failing that, the file written through guest-file-*. Answers whether that deprecated flow was used.
   */
  async #setAuthorizedKeys(dom: VirDomain, user: string, keys: readonly string[]): Promise<boolean> {
    let first: unknown;
    try {
      await this.#o.conn.domainAuthorizedSSHKeysSet(dom, user, keys, 0);
      return false;
    } catch (err) {
      first = err;
      this.#o.logger.debug({ reason: errorText(err) }, 'Could not set SSH key using guest-ssh-add-authorized-keys');
    }
    try {
      await this.#writeAuthorizedKeysFile(dom, user, keys.join('\n'));
      return true;
    } catch (second) {
      throw new Error(
        `failed to set SSH keys: error from guest-ssh-add-authorized-keys: ${errorText(first)}; error from using guest-file-write: ${errorText(second)}`,
      );
    }
  }

  /** agentWriteAuthorizedKeysFile: ~USER/.ssh/authorized_keys, written only when it differs. */
  async #writeAuthorizedKeysFile(dom: VirDomain, user: string, desired: string): Promise<void> {
    let entry: string;
    try {
      entry = await this.#exec(dom, 'getent', ['passwd', user]);
    } catch (err) {
      throw new Error(`unable to detect home directory of user ${user}: ${errorText(err)}`);
    }
    const { home, uid, gid } = parsePasswdEntry(user, entry);
    this.#o.logger.info(`Detected home directory ${home} for user ${user}`);
    const file = `${home}/.ssh/authorized_keys`;
    let current = '';
    let exists = true;
    try {
      current = await this.#readGuestFile(dom, file);
    } catch (err) {
      if (!errorText(err).includes('No such file or directory')) throw err;
      exists = false;
    }
    if (current !== desired) await this.#writeGuestFile(dom, file, desired, `${uid}:${gid}`, exists);
  }

  async #readGuestFile(dom: VirDomain, file: string): Promise<string> {
    const handle = agentReply(openReturn, await this.#agentCommand(dom, fileOpen(file, 'r'))).return;
    const read = agentReply(
      readReturn,
      await this.#agentCommand(dom, JSON.stringify({ execute: 'guest-file-read', arguments: { handle } })),
    ).return;
    const contents = read.count > 0 ? Buffer.from(read['buf-b64'] ?? '', 'base64').toString() : '';
    await this.#agentCommand(dom, JSON.stringify({ execute: 'guest-file-close', arguments: { handle } }));
    return contents;
  }

  async #writeGuestFile(dom: VirDomain, file: string, contents: string, owner: string, exists: boolean): Promise<void> {
    const dir = path.posix.dirname(file);
    await this.#exec(dom, 'mkdir', ['-p', dir]);
    await this.#setPermissions(dom, dir, '700', owner);
    if (exists) await this.#setPermissions(dom, file, '600', owner);
    const handle = agentReply(openReturn, await this.#agentCommand(dom, fileOpen(file, 'w'))).return;
    const buf = Buffer.from(contents).toString('base64');
    await this.#agentCommand(dom, JSON.stringify({ execute: 'guest-file-write', arguments: { handle, 'buf-b64': buf } }));
    await this.#agentCommand(dom, JSON.stringify({ execute: 'guest-file-close', arguments: { handle } }));
    if (!exists) await this.#setPermissions(dom, file, '600', owner);
  }

  async #setPermissions(dom: VirDomain, file: string, mode: string, owner: string): Promise<void> {
    await this.#exec(dom, 'chown', [owner, file]);
    await this.#exec(dom, 'chmod', [mode, file]);
  }
}
