/**
 * What a kernel needs to know about a device to check a configuration: plain data, so checks run
 * (and are tested) without a GPU, and so results files can record it.
 */
export interface DeviceCaps {
  limits: DeviceLimits;
  features: string[];
  /** WGSL language extensions the implementation offers (navigator.gpu.wgslLanguageFeatures). */
  wgslFeatures: string[];
  /** Subgroup size range reported by the adapter (0 when the adapter does not say). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /**
   * Cooperative-matrix shapes of the chromium-experimental-subgroup-matrix feature (tensor cores
   * on NVIDIA), from adapter.info.subgroupMatrixConfigs; empty without the feature.
   */
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
}

export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** The limits attention kernels depend on, as granted to the device. */
export interface DeviceLimits {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxUniformBufferBindingSize: number;
}

export const LIMIT_NAMES: readonly (keyof DeviceLimits)[] = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
];

/** WebGPU's default limits: what a device gets unless it asks for more. */
export const DEFAULT_LIMITS: DeviceLimits = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBufferBindingSize: 65536,
};

/** Optional features the harness asks for when the adapter has them. */
export const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'] as const;

export function readLimits(source: GPUSupportedLimits): DeviceLimits {
  const out = {} as DeviceLimits;
  for (const name of LIMIT_NAMES) out[name] = Number(source[name]);
  return out;
}

export function capsOf(device: GPUDevice, adapterInfo: GPUAdapterInfo | undefined, wgslFeatures: Iterable<string>): DeviceCaps {
  const info = adapterInfo as
    | (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: Iterable<SubgroupMatrixConfig> })
    | undefined;
  const hasMatrices = device.features.has('chromium-experimental-subgroup-matrix' as GPUFeatureName);
  return {
    limits: readLimits(device.limits),
    features: [...device.features].map(String).sort(),
    wgslFeatures: [...wgslFeatures].sort(),
    subgroupMinSize: Number(info?.subgroupMinSize ?? 0),
    subgroupMaxSize: Number(info?.subgroupMaxSize ?? 0),
    subgroupMatrixConfigs: hasMatrices
      ? [...(info?.subgroupMatrixConfigs ?? [])].map((c) => ({
          componentType: String(c.componentType),
          resultComponentType: String(c.resultComponentType),
          M: Number(c.M),
          N: Number(c.N),
          K: Number(c.K),
        }))
      : [],
  };
}

/** Capabilities of a device created with WebGPU's defaults and no optional feature (for tests and docs). */
export function defaultCaps(overrides: Partial<DeviceCaps> = {}): DeviceCaps {
  return {
    limits: { ...DEFAULT_LIMITS, ...(overrides.limits ?? {}) },
    features: overrides.features ?? [],
    wgslFeatures: overrides.wgslFeatures ?? [],
    subgroupMinSize: overrides.subgroupMinSize ?? 0,
    subgroupMaxSize: overrides.subgroupMaxSize ?? 0,
    subgroupMatrixConfigs: overrides.subgroupMatrixConfigs ?? [],
  };
}
