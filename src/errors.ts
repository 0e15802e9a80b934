/**
 * Errors the harness raises before any GPU work. Each names the offending value and the limit
 * it broke, so a caller (CLI, page, test) can show the message as is.
 */
export class AttentionInputError extends Error {
  override name = 'AttentionInputError';
}

/** A configuration that the device cannot run: names the WebGPU limit, the value asked and the limit granted. */
export class DeviceLimitError extends Error {
  override name = 'DeviceLimitError';
  constructor(
    message: string,
    readonly limit: string,
    readonly requested: number,
    readonly available: number,
  ) {
    super(message);
  }
}

/** The GPU reported an error (validation, out of memory, internal) or the device was lost. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** Raised when a GPU wait exceeds its deadline, so that no run can hang a caller. */
export class GpuTimeoutError extends GpuError {
  override name = 'GpuTimeoutError';
}

/** One or more reasons a kernel configuration cannot run on a device (see ConfigProblem). */
export class ConfigError extends DeviceLimitError {
  override name = 'ConfigError';
  constructor(
    readonly kernel: string,
    readonly problems: readonly { limit: string; requested: number; available: number; message: string }[],
  ) {
    super(`${kernel}: ${problems.map((p) => p.message).join('; ')}`, problems[0]!.limit, problems[0]!.requested, problems[0]!.available);
  }
}

/** A tile parameter the kernel does not have, or a value outside its list. */
export class TileError extends Error {
  override name = 'TileError';
  constructor(
    message: string,
    readonly key: string,
    readonly value: number,
  ) {
    super(message);
  }
}
