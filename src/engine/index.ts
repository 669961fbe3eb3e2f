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

// ---- containers ---------------------------------------------------------
export type { ContainerInfo, ContainerState, ContainerStatus, HealthState, HealthLogEntry } from './container-info.js';
export {
  containerList, containerSizes, statusText, type ContainerSummary, type ContainerSizes, type ContainerListOptions,
} from './container-list.js';
export { inspectContainer } from './inspect.js';
export { containerLogs, formatTimestamp, type ContainerLogsOptions, type LogEntry } from './container-logs.js';
export { attachContainer, forwardSignal, type AttachSession, type AttachStreams, type ExitInfo } from './container-attach.js';

// ---- images -------------------------------------------------------------
export { imageSize, tagImage, removeImage, pruneImages, type RemoveReport } from './images.js';
export { imageList, imageInspect, imageHistory, type ImageListEntry, type ImageListName, type ImageListOptions, type ImageHistoryEntry } from './image-views.js';
export { saveImages, loadImages, importImage, type ArchiveFormat, type ImportOptions, type LoadResult, type SaveResult } from './image-transfer.js';
