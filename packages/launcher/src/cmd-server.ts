// The launcher's command server (pkg/virt-launcher/virtwrap/cmd-server): KubeVirt's Cmd RPCs on top of
// the DomainManager. Errors travel in-band as KubeVirt's do: gRPC OK with Response{success:false,
// message}, the message never empty; only Exec and GuestPing also fail the call itself.
// SEV, backup and checkpoint RPCs are not implemented yet and answer UNIMPLEMENTED.
import path from 'node:path';
import type { Logger } from 'pino';
import { isAgentUnresponsive, isLibvirtError } from '@kubevirt-ts/libvirt';
import { createCmdServer, type CmdServerImpl, type cmdv1, type Server } from '@kubevirt-ts/proto';
import { domainToJSON, errorMessage as plainErrorMessage, parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { AGENT_DATA_FIELDS } from './agent/data-fields.ts';
import type { DomainManager } from './domain-manager.ts';
import { ExecExitCode } from './agent/exec.ts';
import { parseVirtualMachineOptions } from './vm-options.ts';
import { FuncTestMemoryHotplugFailAnnotation } from './liveupdate/memory.ts';
import { parseMigrationOptions } from './migration/options.ts';

type Response = cmdv1.Response;
const OK: Response = { success: true, message: '' };

/** KubeVirt's getErrorMessage: libvirt errors in FormatLibvirtError's form, others as they are. */
export function errorMessage(err: unknown): string {
  if (isLibvirtError(err)) return `LibvirtError(Code=${err.code}, Domain=${err.domain}, Message='${err.message}')`;
  const message = plainErrorMessage(err);
  return message === '' ? 'unknown error' : message;
}

/** KubeVirt measures the dirty rate for one second (dirtyRateCalculationTime). */
const DIRTY_RATE_CALCULATION_SECONDS = 1;

/** KubeVirt's v1.SyncFailed: the reason of the Warning event about a failed sync. */
export const SYNC_FAILED_REASON = 'SyncFailed';

type VMIResult = { vmi: VirtualMachineInstance; response?: never } | { vmi?: never; response: Response };

function vmiFromRequest(request: { vmi: cmdv1.VMI__Output | null }, logger: Logger): VMIResult {
  try {
    if (!request.vmi) throw new Error('no vmi in the request');
    return { vmi: parseVMI(request.vmi.vmiJson) };
  } catch (err) {
    const message = `No valid vmi object present in command server request: ${errorMessage(err)}`;
    logger.error({ reason: errorMessage(err) }, 'No valid vmi object present in command server request');
    return { response: { success: false, message } };
  }
}

/** What the launcher was started with that the command server must know (KubeVirt's ServerOptions). */
export interface LauncherServerOptions {
  /**
   * Features the command line asked for that this launcher does not implement, each a sentence naming
   * its flag: every Sync fails with them in-band (the process still starts and serves the rest).
   */
  unsupportedFeatures?: readonly string[];
  /** POD_NAME: SignalTargetPodCleanup ends the launcher only when it is the migration's target pod. */
  podName?: string;
  /** The early exit signal of a target pod whose migration will not come (receivedEarlyExitSignal). */
  onEarlyExit?: () => void;
}

export function cmdServerImpl(dm: DomainManager, logger: Logger, opts: LauncherServerOptions = {}): CmdServerImpl {
  const unsupported = opts.unsupportedFeatures ?? [];
  /** The common shape of every VMI command: parse, act, log, answer in-band. */
  const vmiCommand =
    (done: string, failed: string, act: (vmi: VirtualMachineInstance, request: never) => Promise<unknown>) =>
    async (request: { vmi: cmdv1.VMI__Output | null }): Promise<Response> => {
      const parsed = vmiFromRequest(request, logger);
      if (parsed.response) return parsed.response;
      const log = logger.child({
        kind: 'VirtualMachineInstance',
        name: parsed.vmi.metadata.name,
        namespace: parsed.vmi.metadata.namespace,
        uid: parsed.vmi.metadata.uid,
      });
      try {
        await act(parsed.vmi, request as never);
      } catch (err) {
        log.error({ reason: errorMessage(err) }, failed);
        return { success: false, message: errorMessage(err) };
      }
      log.info(done);
      return OK;
    };

  /** Getters answer `{response, <field>: json}`, failures in-band. */
  const getter =
    <F extends string>(field: F, get: () => Promise<unknown>) =>
    async (): Promise<{ response: Response } & Record<F, string>> => {
      try {
        const value = await get();
        return { response: OK, [field]: value === undefined ? '' : JSON.stringify(value) } as { response: Response } & Record<F, string>;
      } catch (err) {
        logger.error({ reason: errorMessage(err) }, `Failed to get ${field}`);
        return { response: { success: false, message: errorMessage(err) }, [field]: '' } as { response: Response } & Record<F, string>;
      }
    };

  const getDomainStats = getter('domainStats', () => dm.getDomainStats());

  const getDirtyRateStats = async (): Promise<cmdv1.DirtyRateStatsResponse> => {
    try {
      const stats = await dm.getDomainDirtyRateStats(DIRTY_RATE_CALCULATION_SECONDS);
      if (!stats.MegabytesPerSecondSet) throw new Error('dirty rate MegabytesPerSecondSet is false');
      return { response: OK, dirtyRateMbs: stats.MegabytesPerSecond };
    } catch (err) {
      logger.error({ reason: errorMessage(err) }, 'Failed to get domain dirty rate stats');
      return { response: { success: false, message: `failed to get dirty rate stats: ${errorMessage(err)}` }, dirtyRateMbs: 0 };
    }
  };

  /** GetVMStats: what the request marks, each part answering in its own Response; failures joined on top. */
  const getVMStats = async (request: cmdv1.VMStatsRequest__Output): Promise<cmdv1.VMStatsResponse> => {
    const response: cmdv1.VMStatsResponse = { response: { ...OK } };
    const errs: string[] = [];
    if (request.domainStats) {
      response.domainStats = await getDomainStats();
      if (!response.domainStats.response?.success) errs.push(`domain stats: ${response.domainStats.response?.message}`);
    }
    if (request.dirtyRate) {
      response.dirtyRateStats = await getDirtyRateStats();
      if (!response.dirtyRateStats.response?.success) errs.push(`dirty rate stats: ${response.dirtyRateStats.response?.message}`);
    }
    const agentFields = AGENT_DATA_FIELDS.filter(([field]) => request[field]);
    if (agentFields.length > 0) {
      response.guestAgentVersion = { success: true, message: dm.getGuestAgentVersion() };
      // a hung agent answers no command: one timeout is enough, the rest report it at once
      let unresponsive: string | undefined;
      for (const [field, command] of agentFields) {
        let result: Response;
        if (unresponsive !== undefined) {
          result = { success: false, message: unresponsive };
        } else {
          try {
            result = { success: true, message: await dm.getAgentData(command) };
          } catch (err) {
            logger.error({ reason: errorMessage(err) }, `Failed to get agent data for ${command}`);
            result = { success: false, message: errorMessage(err) };
            if (isAgentUnresponsive(err)) unresponsive = result.message;
          }
        }
        response[field] = result;
        if (!result.success) errs.push(`agent data ${command}: ${result.message}`);
      }
    }
    if (errs.length > 0) response.response = { success: false, message: errs.join('; ') };
    return response;
  };

  return {
    // A failed sync also tells the VMI's events why it does not start (a Warning with KubeVirt's SyncFailed).
    SyncVirtualMachine: vmiCommand('Synced vmi', 'Failed to sync vmi', async (vmi, request: cmdv1.VMIRequest__Output) => {
      try {
        if (unsupported.length > 0) throw new Error(unsupported.join('; '));
        await dm.syncVMI(vmi, parseVirtualMachineOptions(request.options));
      } catch (err) {
        dm.sendK8sEvent(vmi, 'Warning', SYNC_FAILED_REASON, errorMessage(err));
        throw err;
      }
    }),
    PauseVirtualMachine: vmiCommand('Paused vmi', 'Failed to pause vmi', (vmi) => dm.pauseVMI(vmi)),
    UnpauseVirtualMachine: vmiCommand('Unpaused vmi', 'Failed to unpause vmi', (vmi) => dm.unpauseVMI(vmi)),
    FreezeVirtualMachine: vmiCommand('Freezed vmi', 'Failed to freeze vmi', (vmi, r: cmdv1.FreezeRequest__Output) =>
      dm.freezeVMI(vmi, r.unfreezeTimeoutSeconds),
    ),
    UnfreezeVirtualMachine: vmiCommand('Unfreezed vmi', 'Failed to unfreeze vmi', (vmi) => dm.unfreezeVMI(vmi)),
    ResetVirtualMachine: vmiCommand('Reset vmi', 'Failed to reset vmi', (vmi) => dm.resetVMI(vmi)),
    SoftRebootVirtualMachine: vmiCommand('Soft rebooted vmi', 'Failed to soft reboot vmi', (vmi) => dm.softRebootVMI(vmi)),
    ShutdownVirtualMachine: vmiCommand('Signaled vmi shutdown', 'Failed to signal shutdown for vmi', (vmi) => dm.signalShutdownVMI(vmi)),
    KillVirtualMachine: vmiCommand('Signaled vmi kill', 'Failed to kill vmi', (vmi) => dm.killVMI(vmi)),
    DeleteVirtualMachine: vmiCommand('Signaled vmi deletion', 'Failed to signal deletion for vmi', (vmi) => dm.deleteVMI(vmi)),
    // answered once the dump has started: its progress reaches the handler as the domain's metadata
    VirtualMachineMemoryDump: vmiCommand(
      'Signaled vmi memory dump',
      'Failed to Dump vmi memory',
      async (vmi, r: cmdv1.MemoryDumpRequest__Output) => {
        // the dump's directory is also where earlier dumps are removed: never a relative one
        if (!path.isAbsolute(r.dumpPath)) throw new Error(`dumpPath ${JSON.stringify(r.dumpPath)} is not an absolute path`);
        await dm.memoryDump(vmi, r.dumpPath);
      },
    ),
    SyncMigrationTarget: vmiCommand(
      'Prepared migration target pod',
      'Failed to prepare migration target pod',
      (vmi, r: cmdv1.VMIRequest__Output) => dm.prepareMigrationTarget(vmi, parseVirtualMachineOptions(r.options)),
    ),
    // answered once the migration has started: its end reaches the handler as the domain's metadata
    MigrateVirtualMachine: vmiCommand('Signaled vmi migration', 'Failed to migrate vmi', async (vmi, r: cmdv1.MigrationRequest__Output) =>
      dm.migrateVMI(vmi, parseMigrationOptions(r.options)),
    ),
    CancelVirtualMachineMigration: vmiCommand('Live migration has been aborted', 'Failed to abort live migration', async (vmi) =>
      dm.cancelVMIMigration(vmi),
    ),
    FinalizeVirtualMachineMigration: vmiCommand(
      'migration finalized successfully',
      'failed to finalize migration',
      (vmi, r: cmdv1.VMIRequest__Output) => dm.finalizeVirtualMachineMigration(vmi, parseVirtualMachineOptions(r.options)),
    ),
    SignalTargetPodCleanup: vmiCommand('Signaled target pod cleanup', 'Failed to signal target pod cleanup', async (vmi) => {
      const podName = opts.podName ?? '';
      if (podName !== '' && vmi.status?.migrationState?.targetPod === podName) {
        logger.info(`Signaled target pod ${podName} to cleanup`);
        opts.onEarlyExit?.();
      }
    }),
    SyncVirtualMachineCPUs: vmiCommand('Synced vmi CPUs', 'Failed to sync vmi CPUs', (vmi) => dm.syncVMICPUs(vmi)),
    SyncVirtualMachineMemory: vmiCommand('guest memory has been updated', 'Failed update VMI guest memory', async (vmi) => {
      // KubeVirt's functional tests make a hotplug fail with this annotation; the message is its name
      if (vmi.metadata.annotations?.[FuncTestMemoryHotplugFailAnnotation] !== undefined) {
        throw new Error(FuncTestMemoryHotplugFailAnnotation);
      }
      await dm.syncVMIMemory(vmi);
    }),

    GetDomain: async () => {
      try {
        const domain = await dm.getDomain();
        return { response: OK, domain: domain ? domainToJSON(domain) : '' };
      } catch (err) {
        return { response: { success: false, message: errorMessage(err) }, domain: '' };
      }
    },
    GetDomainStats: getDomainStats,
    GetDomainDirtyRateStats: getDirtyRateStats,
    GetVMStats: getVMStats,
    GetGuestInfo: getter('guestInfoResponse', async () => dm.getGuestInfo()),
    GetUsers: getter('guestUserListResponse', async () => dm.getUsers()),
    GetFilesystems: getter('guestFilesystemsResponse', async () => dm.getFilesystems()),
    GetQemuVersion: async () => {
      try {
        return { response: OK, version: await dm.getQemuVersion() };
      } catch (err) {
        return { response: { success: false, message: errorMessage(err) }, version: '' };
      }
    },
    GetScreenshot: async (request) => {
      const parsed = vmiFromRequest(request, logger);
      if (parsed.response) return { response: parsed.response, mime: '', data: Buffer.alloc(0) };
      try {
        return { response: OK, ...(await dm.getScreenshot(parsed.vmi)) };
      } catch (err) {
        return { response: { success: false, message: errorMessage(err) }, mime: '', data: Buffer.alloc(0) };
      }
    },
    Ping: () => OK,

    // These two fail the call itself as well, as KubeVirt's do (virt-probe reads the gRPC status).
    Exec: async (request) => {
      try {
        const stdOut = await dm.exec(request.domainName, request.Command, request.Args, request.timeoutSeconds);
        return { response: OK, exitCode: 0, stdOut };
      } catch (err) {
        if (err instanceof ExecExitCode) {
          return { response: OK, exitCode: err.exitCode, stdOut: err.stdout };
        }
        throw new Error(errorMessage(err));
      }
    },
    GuestPing: async (request) => {
      try {
        await dm.guestPing(request.domainName, request.timeoutSeconds);
        return { response: OK };
      } catch (err) {
        throw new Error(errorMessage(err));
      }
    },
  };
}

export function createLauncherCmdServer(dm: DomainManager, logger: Logger, opts: LauncherServerOptions = {}): Server {
  return createCmdServer(cmdServerImpl(dm, logger, opts));
}
