import { GpuError } from '../errors.js';
import { type DeviceCaps, LIMIT_NAMES, WANTED_FEATURES, capsOf } from './caps.js';

/** What the results files and the page say about an adapter. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe, WARP): timings say nothing about GPUs. */
  software: boolean;
}

/** A GPUDevice with what the harness needs beside it: capabilities, adapter description, loss state. */
export interface AttentionDevice {
  device: GPUDevice;
  adapter: AdapterSummary;
  caps: DeviceCaps;
  runtime: 'node' | 'browser';
  /** Things worth telling the user (e.g. that the software fallback is in use). */
  notes: string[];
  /** Errors no error scope caught, newest last (shader compiler messages among them). */
  uncapturedErrors: string[];
  /** Set once the device is lost; every later run refuses to start. */
  lostInfo: GPUDeviceLostInfo | undefined;
  /** Resolves when the device is lost (after destroy() too). */
  lost: Promise<GPUDeviceLostInfo>;
  /**
   * The GPU object the device came from. Held so that it lives as long as the device: in Node,
   * dawn.node tears down the whole instance when this object is garbage-collected, and a device
   * whose instance is gone crashes the process at its next call.
   */
  readonly instance: GPU;
  destroy(): void;
}

export interface CreateDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Node only: options for Dawn, e.g. 'enable-dawn-features=vulkan_enable_f16_on_nvidia' (exposes
   * shader-f16 on NVIDIA) or 'enable-dawn-features=allow_unsafe_apis' (experimental features).
   */
  dawnOptions?: string[];
  /** Node only: when no adapter is found, retry on Debian Chromium's SwiftShader (default true). */
  softwareFallback?: boolean;
  /** Features to require beyond the optional ones requested when present. */
  requiredFeatures?: GPUFeatureName[];
  /** Called with each uncaptured GPU error as it happens. */
  onUncapturedError?: (message: string) => void;
}

export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/**
 * Creates a device for the attention kernels: in a browser from navigator.gpu, in Node from the
 * `webgpu` package. Requests, up to what the adapter offers, the limits the kernels depend on
 * (workgroup storage, invocations, binding sizes) and the optional features timestamp-query,
 * shader-f16 and subgroups when present.
 */
export async function createDevice(options: CreateDeviceOptions = {}): Promise<AttentionDevice> {
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  const notes: string[] = [];
  const runtime = isNode() ? 'node' : 'browser';
  if (runtime === 'node') {
    const { requestNodeAdapter } = await import('./node-gpu.js');
    const found = await requestNodeAdapter(options.dawnOptions ?? [], options.powerPreference, options.softwareFallback ?? true);
    gpu = found.gpu;
    adapter = found.adapter;
    notes.push(...found.notes);
  } else {
    const nav = (globalThis as { navigator?: Navigator }).navigator;
    if (!nav?.gpu) {
      throw new GpuError(
        'WebGPU is not available in this browser. Use Chrome or Edge 113 or newer on a secure page (https or http://localhost); on Linux, enable chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan.',
      );
    }
    gpu = nav.gpu;
    adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
    if (!adapter) {
      throw new GpuError('The browser has WebGPU but found no adapter: the GPU may be blocklisted; see chrome://gpu.');
    }
  }
  return openDevice(gpu, adapter, runtime, notes, options);
}

async function openDevice(gpu: GPU, adapter: GPUAdapter, runtime: 'node' | 'browser', notes: string[], options: CreateDeviceOptions): Promise<AttentionDevice> {
  const features = new Set<GPUFeatureName>(options.requiredFeatures ?? []);
  for (const f of WANTED_FEATURES) if (adapter.features.has(f)) features.add(f as GPUFeatureName);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: [...features], requiredLimits });
  const info = adapter.info;
  const summary: AdapterSummary = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info),
  };
  const wgsl = (gpu as GPU & { wgslLanguageFeatures?: Iterable<string> }).wgslLanguageFeatures ?? [];
  const result: AttentionDevice = {
    device,
    adapter: summary,
    caps: capsOf(device, info, wgsl),
    runtime,
    notes,
    uncapturedErrors: [],
    lostInfo: undefined,
    lost: device.lost,
    instance: gpu,
    destroy: () => device.destroy(),
  };
  device.lost.then((lostInfo) => {
    result.lostInfo = lostInfo;
  });
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    result.uncapturedErrors.push(message);
    if (result.uncapturedErrors.length > 50) result.uncapturedErrors.shift();
    options.onUncapturedError?.(message);
  });
  return result;
}

export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return fallback || /swiftshader|llvmpipe|lavapipe|warp|software/.test(text);
}

/** Throws when the device can no longer run work, with the loss reason. */
export function assertUsable(gpu: AttentionDevice): void {
  if (gpu.lostInfo) {
    throw new GpuError(`the GPU device was lost (${gpu.lostInfo.reason}: ${gpu.lostInfo.message || 'no message'}); create a new device`);
  }
}
