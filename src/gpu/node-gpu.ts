/**
 * Node side of createDevice: the `webgpu` npm package (Dawn, Chrome's WebGPU), with a retry on
 * Debian Chromium's SwiftShader when the machine has no GPU adapter. Imported dynamically and
 * through variable specifiers so that browser bundles never see Node modules.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface NodeWebGpu {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

const importNode = (specifier: string): Promise<any> => import(/* @vite-ignore */ specifier);

export interface NodeAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  notes: string[];
}

/**
 * Dawn rounds timestamps (to 65 536 ns by default, a browser privacy measure). A command-line
 * benchmark wants the GPU's real resolution, so Node devices turn the rounding off unless the
 * caller's options mention the toggle themselves.
 */
export function withNodeDefaults(options: readonly string[]): string[] {
  if (options.some((o) => o.includes('timestamp_quantization'))) return [...options];
  const out = [...options];
  const i = out.findIndex((o) => o.startsWith('disable-dawn-features='));
  if (i >= 0) out[i] = `${out[i]},timestamp_quantization`;
  else out.push('disable-dawn-features=timestamp_quantization');
  return out;
}

export async function requestNodeAdapter(
  dawnOptions: readonly string[],
  powerPreference: GPUPowerPreference | undefined,
  softwareFallback: boolean,
): Promise<NodeAdapter> {
  let webgpu: NodeWebGpu;
  try {
    webgpu = await importNode('webgpu');
  } catch (error) {
    throw new Error(`WebGPU for Node is missing: run npm install (the "webgpu" package). ${(error as Error).message}`);
  }
  // The harness uses GPUBufferUsage, GPUMapMode and friends as globals, as in a browser.
  for (const [name, value] of Object.entries(webgpu.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const fs = await importNode('node:fs');
  const notes: string[] = [];
  const process = globalThis.process;
  // Vulkan loaders complain loudly without it, and SwiftShader does not need a real one.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const options = withNodeDefaults(dawnOptions);
  let gpu = webgpu.create(options);
  let adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  if (!adapter && softwareFallback && fs.existsSync(SWIFTSHADER_ICD) && process.env.VK_ICD_FILENAMES !== SWIFTSHADER_ICD) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = webgpu.create(options);
    adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
    if (adapter) notes.push(`No GPU adapter found; using Chromium's SwiftShader (software Vulkan on the CPU) from ${SWIFTSHADER_ICD}.`);
  }
  if (!adapter) {
    const hasLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some((p) =>
      fs.existsSync(p),
    );
    const hints = [
      hasLoader ? null : 'the Vulkan loader is missing: apt-get install libvulkan1',
      fs.existsSync(SWIFTSHADER_ICD)
        ? null
        : "for a software adapter without a GPU, install Debian's chromium package (apt-get install chromium), whose SwiftShader this harness uses",
      'with a GPU, install its Vulkan driver',
    ].filter(Boolean);
    throw new Error(`No WebGPU adapter found by Dawn. To fix: ${hints.join('; ')}.`);
  }
  return { gpu, adapter, notes };
}
