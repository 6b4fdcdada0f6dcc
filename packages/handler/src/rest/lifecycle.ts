// pkg/virt-handler/rest/lifecycle.go and screenshot.go: the lifecycle PUTs and guest-agent GETs virt-api
// forwards to the node, each one launcher RPC. Order as in KubeVirt: VMI, then launcher client, then body.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod/mini';
import { vmiRequest, type CmdClient } from '@kubevirt-ts/proto';
import {
  errorMessage,
  parseFileSystems,
  parseGoDuration,
  parseGuestAgentInfo,
  parseGuestOSUsers,
  type VirtualMachineInstanceFileSystem,
  type VirtualMachineInstanceGuestAgentInfo,
  type VirtualMachineInstanceGuestOSUser,
} from '@kubevirt-ts/shared';
import { callLauncher, logFailure, RestError, vmiContext, writeEntity, type ConsoleServerDeps, type VMIContext } from './common.ts';

export const VMI_PATH = '/v1/namespaces/:namespace/virtualmachineinstances/:name';

const failedConnectCmdClient = 'Failed to connect cmd client';

/** getVMILauncherClient: the VMI (400/404) and a connected client of its launcher (500). */
async function withLauncher(deps: ConsoleServerDeps, request: FastifyRequest): Promise<VMIContext & { client: CmdClient }> {
  const ctx = vmiContext(deps, request);
  try {
    return { ...ctx, client: await deps.launcherClient(ctx.vmi) };
  } catch (err) {
    logFailure(ctx.log, err, failedConnectCmdClient);
    throw new RestError(500, errorMessage(err), { cause: err });
  }
}

type Failure = { statusCode: number; what: string; event?: { reason: string } };

/** Runs `act`; a failure is logged and answered with `failure.statusCode` and the error's text. */
async function run<R>(ctx: VMIContext, deps: ConsoleServerDeps, failure: Failure, act: () => Promise<R>): Promise<R> {
  try {
    return await act();
  } catch (err) {
    logFailure(ctx.log, err, failure.what);
    const message = errorMessage(err);
    if (failure.event) deps.recorder.event(ctx.vmi, 'Warning', failure.event.reason, message);
    throw new RestError(failure.statusCode, message, { cause: err });
  }
}

const respOf = (r: { success: boolean; message: string }) => r;
const nested = (r: { response: { success: boolean; message: string } | null }) => r.response;

// --- freeze body ----------------------------------------------------------------------------------

/** v1.FreezeUnfreezeTimeout: `unfreezeTimeout` is a metav1.Duration, i.e. a Go duration string. */
const freezeUnfreezeTimeout = z.looseObject({
  unfreezeTimeout: z.pipe(
    z.nullish(z.string()),
    z.transform((text, c) => {
      if (text === null || text === undefined) return undefined;
      const ms = parseGoDuration(text);
      if (ms === undefined) {
        c.issues.push({ code: 'custom', message: `time: invalid duration ${JSON.stringify(text)}`, input: text });
        return z.NEVER;
      }
      return ms;
    }),
  ),
});

/** The freeze body as KubeVirt reads it; an empty body decodes to "no timeout" (io.EOF is not an error). */
function unfreezeTimeoutSeconds(body: unknown): number {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  let ms: number | undefined;
  if (text.trim() !== '') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(text);
    } catch {
      throw new RestError(400, 'failed to unmarshal unfreeze timeout');
    }
    const parsed = freezeUnfreezeTimeout.safeParse(decoded);
    if (!parsed.success) throw new RestError(400, 'failed to unmarshal unfreeze timeout');
    ms = parsed.data.unfreezeTimeout;
  }
  if (ms === undefined) throw new RestError(400, 'Unfreeze timeout in freeze request is not set');
  // int32(Duration.Seconds())
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(ms / 1000)));
}

// --- JSON entities in Go's field order and omitempty rules ------------------------------------------

function omitEmpty<T extends Record<string, unknown>>(entries: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || v === '' || v === false || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}

function userEntity(u: VirtualMachineInstanceGuestOSUser) {
  return { userName: u.userName, ...omitEmpty({ domain: u.domain, loginTime: u.loginTime }) };
}

function fileSystemEntity(f: VirtualMachineInstanceFileSystem) {
  return {
    diskName: f.diskName,
    mountPoint: f.mountPoint,
    fileSystemType: f.fileSystemType,
    usedBytes: f.usedBytes,
    totalBytes: f.totalBytes,
    ...omitEmpty({ disk: f.disk?.map((d) => ({ ...omitEmpty({ serial: d.serial }), busType: d.busType })) }),
  };
}

/** v1.VirtualMachineInstanceGuestAgentInfo as json.Marshal writes it (os and fsInfo always present). */
export function guestAgentInfoEntity(info: VirtualMachineInstanceGuestAgentInfo) {
  const os = info.os ?? {};
  return {
    ...omitEmpty({
      kind: info.kind,
      apiVersion: info.apiVersion,
      guestAgentVersion: info.guestAgentVersion,
      supportedCommands: info.supportedCommands?.map((c) => ({ name: c.name, ...omitEmpty({ enabled: c.enabled }) })),
      hostname: info.hostname,
    }),
    os: omitEmpty({
      name: os.name,
      kernelRelease: os.kernelRelease,
      version: os.version,
      prettyName: os.prettyName,
      versionId: os.versionId,
      kernelVersion: os.kernelVersion,
      machine: os.machine,
      id: os.id,
    }),
    ...omitEmpty({ timezone: info.timezone, userList: info.userList?.map(userEntity) }),
    fsInfo: { disks: info.fsInfo?.disks?.map(fileSystemEntity) ?? null },
    ...omitEmpty({ fsFreezeStatus: info.fsFreezeStatus }),
  };
}

/**
 * cmd-client decodes into a non-nil empty slice: "" stays `[]`, while a launcher's `null` makes it nil
 * and the list is served with `"items": null`.
 */
function listEntity<T, E>(json: string, parse: (v: unknown) => T[] | null, entity: (item: T) => E) {
  const items = json === '' ? [] : parse(JSON.parse(json));
  return { metadata: {}, items: items === null ? null : items.map(entity) };
}

// --- routes ---------------------------------------------------------------------------------------

type VMICommand =
  | 'PauseVirtualMachine'
  | 'UnpauseVirtualMachine'
  | 'UnfreezeVirtualMachine'
  | 'ResetVirtualMachine'
  | 'SoftRebootVirtualMachine';

interface LifecycleCommand {
  path: string;
  rpc: VMICommand;
  /** cmd-client's name of the command in its error text */
  cmdName: string;
  failure: Omit<Failure, 'event'>;
  /** the Event recorded on success */
  done?: { reason: string; message: string };
}

const lifecycleCommands: LifecycleCommand[] = [
  {
    path: 'pause',
    rpc: 'PauseVirtualMachine',
    cmdName: 'Pause',
    failure: { statusCode: 500, what: 'Failed to pause VMI' },
    done: { reason: 'Paused', message: 'VirtualMachineInstance paused' },
  },
  {
    path: 'unpause',
    rpc: 'UnpauseVirtualMachine',
    cmdName: 'Unpause',
    failure: { statusCode: 500, what: 'Failed to unpause VMI' },
    done: { reason: 'Unpaused', message: 'VirtualMachineInstance unpaused' },
  },
  { path: 'unfreeze', rpc: 'UnfreezeVirtualMachine', cmdName: 'Unfreeze', failure: { statusCode: 400, what: 'Failed to unfreeze VMI' } },
  {
    path: 'reset',
    rpc: 'ResetVirtualMachine',
    cmdName: 'Reset',
    failure: { statusCode: 500, what: 'Failed to reset VMI' },
    done: { reason: 'Reset', message: 'VirtualMachineInstance reset' },
  },
  {
    path: 'softreboot',
    rpc: 'SoftRebootVirtualMachine',
    cmdName: 'SoftReboot',
    failure: { statusCode: 500, what: 'Failed to soft reboot VMI' },
    done: { reason: 'SoftRebooted', message: 'VirtualMachineInstance soft rebooted' },
  },
];

export function lifecycleRoutes(app: FastifyInstance, deps: ConsoleServerDeps): void {
  for (const command of lifecycleCommands) {
    app.put(`${VMI_PATH}/${command.path}`, async (request, reply) => {
      const ctx = await withLauncher(deps, request);
      await run(ctx, deps, command.failure, () =>
        callLauncher(command.cmdName, () => ctx.client[command.rpc](vmiRequest(ctx.vmi)), respOf),
      );
      if (command.done) deps.recorder.event(ctx.vmi, 'Normal', command.done.reason, command.done.message);
      return accepted(reply);
    });
  }

  app.put(`${VMI_PATH}/freeze`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    let seconds: number;
    try {
      seconds = unfreezeTimeoutSeconds(request.body);
    } catch (err) {
      logFailure(ctx.log, err, 'Failed to read the unfreeze timeout of the freeze request');
      throw err;
    }
    await run(ctx, deps, { statusCode: 400, what: 'Failed to freeze VMI', event: { reason: 'FreezeError' } }, () =>
      callLauncher('Freeze', () => ctx.client.FreezeVirtualMachine({ ...vmiRequest(ctx.vmi), unfreezeTimeoutSeconds: seconds }), respOf),
    );
    return accepted(reply);
  });

  app.get(`${VMI_PATH}/vnc/screenshot`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info('Requesting screenshot');
    const shot = await run(ctx, deps, { statusCode: 500, what: 'Failed to get Screenshot' }, () =>
      callLauncher('GetScreenshot', () => ctx.client.GetScreenshot(vmiRequest(ctx.vmi)), nested),
    );
    return reply.code(200).header('content-type', shot.mime).send(shot.data);
  });

  app.get(`${VMI_PATH}/guestosinfo`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info(`Retreiving guestinfo from ${ctx.vmi.metadata.name}`);
    const info = await run(ctx, deps, { statusCode: 500, what: 'Failed to get guest info' }, async () => {
      const r = await callLauncher('GetGuestInfo', () => ctx.client.GetGuestInfo({}), nested);
      return r.guestInfoResponse === '' ? {} : parseGuestAgentInfo(JSON.parse(r.guestInfoResponse));
    });
    return writeEntity(reply, guestAgentInfoEntity(info));
  });

  app.get(`${VMI_PATH}/userlist`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info(`Retreiving userlist from ${ctx.vmi.metadata.name}`);
    const list = await run(ctx, deps, { statusCode: 500, what: 'Failed to get user list' }, async () => {
      const r = await callLauncher('GetUsers', () => ctx.client.GetUsers({}), nested);
      return listEntity(r.guestUserListResponse, parseGuestOSUsers, userEntity);
    });
    return writeEntity(reply, list);
  });

  app.get(`${VMI_PATH}/filesystemlist`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info(`Retreiving filesystem list from ${ctx.vmi.metadata.name}`);
    const list = await run(ctx, deps, { statusCode: 500, what: 'Failed to get file systems' }, async () => {
      const r = await callLauncher('GetFilesystems', () => ctx.client.GetFilesystems({}), nested);
      return listEntity(r.guestFilesystemsResponse, parseFileSystems, fileSystemEntity);
    });
    return writeEntity(reply, list);
  });
}

/**
 * yaml.NewYAMLOrJSONDecoder(...).Decode into an options struct: an empty body is no options (io.EOF), a JSON
 * object is taken as it is (the launcher reads the fields it knows), anything else is a 400.
 */
function optionsBody(body: unknown): Buffer {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (text.trim() === '') return Buffer.from('{}');
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (err) {
    throw new RestError(400, errorMessage(err));
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw new RestError(400, `json: cannot unmarshal ${Array.isArray(decoded) ? 'array' : typeof decoded} into Go value of type object`);
  }
  return Buffer.from(JSON.stringify(decoded));
}

/**
 * The routes KubeVirt forwards to features this launcher answers UNIMPLEMENTED (backup, checkpoints, SEV):
 * the handler does as KubeVirt's does, so virt-api gets KubeVirt's status for a launcher that cannot.
 */
export function launcherFeatureRoutes(app: FastifyInstance, deps: ConsoleServerDeps): void {
  app.put(`${VMI_PATH}/backup`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    let options: Buffer;
    try {
      options = optionsBody(request.body);
    } catch (err) {
      logFailure(ctx.log, err, 'Failed to decode Backup parameters');
      throw err;
    }
    try {
      await callLauncher('Backup', () => ctx.client.BackupVirtualMachine({ ...vmiRequest(ctx.vmi), options }), respOf);
    } catch (err) {
      logFailure(ctx.log, err, 'Failed backing up VM');
      const message = errorMessage(err);
      deps.recorder.event(ctx.vmi, 'Warning', 'BackupError', `Failed backing up VM: ${message}`);
      throw new RestError(400, message, { cause: err });
    }
    return accepted(reply);
  });

  app.put(`${VMI_PATH}/redefine-checkpoint`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    let checkpoint: Buffer;
    try {
      checkpoint = optionsBody(request.body);
    } catch (err) {
      logFailure(ctx.log, err, 'Failed to decode checkpoint info');
      throw err;
    }
    let invalid = false;
    try {
      await callLauncher(
        'RedefineCheckpoint',
        async () => {
          const r = await ctx.client.RedefineCheckpoint({ ...vmiRequest(ctx.vmi), checkpoint });
          invalid = r.checkpointInvalid;
          return r;
        },
        nested,
      );
    } catch (err) {
      const name = (JSON.parse(checkpoint.toString()) as { name?: unknown }).name;
      logFailure(ctx.log, err, `Failed to redefine checkpoint ${typeof name === 'string' ? name : ''}`);
      // 422: the checkpoint is bad and should be cleared; 503: try again
      throw new RestError(invalid ? 422 : 503, errorMessage(err), { cause: err });
    }
    return reply.code(200).send();
  });

  app.get(`${VMI_PATH}/sev/fetchcertchain`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info('Retrieving SEV platform info');
    const info = await run(ctx, deps, { statusCode: 500, what: 'Failed to get SEV platform info' }, async () => {
      const r = await callLauncher('GetSEVInfo', () => ctx.client.GetSEVInfo({}), nested);
      return JSON.parse(r.sevInfo.toString('utf8') || '{}') as unknown;
    });
    return writeEntity(reply, info);
  });

  app.get(`${VMI_PATH}/sev/querylaunchmeasurement`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    ctx.log.info('Retreiving SEV launch measurement');
    const info = await run(ctx, deps, { statusCode: 500, what: 'Failed to get VMI launch measurement' }, async () => {
      const r = await callLauncher('GetLaunchMeasurement', () => ctx.client.GetLaunchMeasurement(vmiRequest(ctx.vmi)), nested);
      return JSON.parse(r.launchMeasurement.toString('utf8') || '{}') as unknown;
    });
    return writeEntity(reply, info);
  });

  app.put(`${VMI_PATH}/sev/injectlaunchsecret`, async (request, reply) => {
    const ctx = await withLauncher(deps, request);
    let options: Buffer;
    try {
      options = optionsBody(request.body);
    } catch (err) {
      logFailure(ctx.log, err, 'Failed to decode SEV secret parameters');
      throw err;
    }
    ctx.log.info('Injecting SEV launch secret');
    await run(ctx, deps, { statusCode: 500, what: 'Failed to inject SEV launch secret' }, () =>
      callLauncher('InjectLaunchSecret', () => ctx.client.InjectLaunchSecret({ ...vmiRequest(ctx.vmi), options }), respOf),
    );
    return accepted(reply);
  });

  // VSOCKHandler: a VMI without autoattachVSOCK is a 400; vsock streams need the vsock dialer this handler has not
  app.get(`${VMI_PATH}/vsock`, async (request) => {
    const ctx = vmiContext(deps, request);
    ctx.log.info('In VSOCKHandler');
    const devices = (ctx.vmi.spec as { domain?: { devices?: { autoattachVSOCK?: unknown } } } | undefined)?.domain?.devices;
    if (devices?.autoattachVSOCK !== true) throw new RestError(400, "VM doesn't have VSOCK enabled");
    if ((ctx.vmi.status as { VSOCKCID?: unknown } | undefined)?.VSOCKCID == null) {
      ctx.log.error('VSOCK CID is nil');
      throw new RestError(500, 'VSOCK CID is nil');
    }
    const query = request.query as Record<string, string | undefined>;
    const port = query['port'] ?? '';
    if (!/^\d+$/.test(port) || Number(port) > 0xffffffff)
      throw new RestError(400, `strconv.ParseUint: parsing ${JSON.stringify(port)}: invalid syntax`);
    throw new RestError(500, 'vsock streams are not supported by this virt-handler');
  });
}

/** response.WriteHeader(http.StatusAccepted): no body, no content type. */
function accepted(reply: FastifyReply): FastifyReply {
  return reply.code(202).send();
}
