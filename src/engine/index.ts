// The engine's surface: the one module the faces (src/cli, and the coming
// src/api) import. Docker's shapes and rules — filters, list and inspect
// objects, sizes, logs, attach, image archives — are here, so that every face
// answers alike; a face only parses its input and formats the answer. The
// layering lint (eslint-rules/layering.js) refuses a face's import of any
// other engine module, or of src/image or src/runtime (but `berth runtime`'s
// commands, which are the runtime's own face).
//
// Most calls are methods of the Engine (it owns the roots and the stores);
// the rest are functions that take it first.

// ---- system: the engine, its roots and stores ---------------------------
export { Engine, DEFAULT_ROOT, DEFAULT_RUN_ROOT, type EngineOptions, type CreateOptions } from './engine.js';
export { HEALTH_STATUSES, recordHealthChange, type HealthStatus } from './health.js';

// ---- containers ---------------------------------------------------------
export type { ContainerInfo, ContainerState, ContainerStatus, HealthState, HealthLogEntry } from './container-info.js';
export type {
  CreateBody, HostConfig, HealthConfig, MountSpec, DeviceMapping, Ulimit, RestartPolicy, RestartPolicyName, PortBinding,
} from './host-config.js';
export { publishedPorts } from './network.js';
/** Checks a face makes while it reads flags, so that a bad value is the user's error before anything is made. */
export { validateHostConfig, ULIMIT_NAMES } from './host-options.js';
export { validateHealthConfig } from './health.js';
export { mountPointsOf, type MountPoint } from './mount-points.js';
export { signalNumber } from '../runtime/signals.js';
export {
  containerList, containerSizes, statusText, type ContainerSummary, type ContainerSizes, type ContainerListOptions,
} from './container-list.js';
export { inspectContainer } from './inspect.js';
export { containerLogs, formatTimestamp, type ContainerLogsOptions, type LogEntry } from './container-logs.js';
export { attachContainer, forwardSignal, type AttachSession, type AttachStreams, type ExitInfo } from './container-attach.js';
export { updateContainer, type UpdateRequest } from './update.js';
export { containerChanges, type Change, type ChangeKind } from './container-diff.js';
export { commitContainer, type CommitOptions } from './commit.js';
export { copyFromContainer, copyToContainer, exportContainer, type CopyOptions } from './container-fs.js';
export { sampleStats, cpuPercent, memoryPercent, type StatsSample } from './container-stats.js';
export { cgroupLocation, cgroupSummaryOf, cpusOf, type CgroupSummary } from './cgroups-view.js';
export { containerNamespaces, type ContainerNamespaces } from './namespaces-view.js';
export type { ExecInspect } from './execs.js';

// ---- images -------------------------------------------------------------
export { imageSize, tagImage, removeImage, pruneImages, type RemoveReport } from './images.js';
export { imageList, imageInspect, imageHistory, type ImageListEntry, type ImageListName, type ImageListOptions, type ImageHistoryEntry } from './image-views.js';
export { saveImages, loadImages, importImage, type ArchiveFormat, type ImportOptions, type LoadResult, type SaveResult } from './image-transfer.js';
/** Image names as Docker reads and shows them ("busybox" is docker.io/library/busybox:latest). */
export { parseReference, formatReference, familiarString, familiarName, type Reference } from '../image/reference.js';
export { parsePlatform, type Platform } from '../image/manifest.js';
export type { PullProgress, PushProgress, PullResult } from '../image/pull.js';
export { login, logout, DOCKER_HUB } from '../image/registry/index.js';

// ---- volumes ------------------------------------------------------------
export {
  createVolume, volume, listVolumes, removeVolume, pruneVolumes, dockerVolume, type Volume,
} from './volumes.js';

// ---- system ---------------------------------------------------------------
export { parseEventFilters, parseEventTime, queryEvents, eventLine, dockerEventMessage } from './event-query.js';
export type { StoredEvent } from './events.js';
