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
  let gpu = webgpu.create([...dawnOptions]);
  let adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  if (!adapter && softwareFallback && fs.existsSync(SWIFTSHADER_ICD) && process.env.VK_ICD_FILENAMES !== SWIFTSHADER_ICD) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = webgpu.create([...dawnOptions]);
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
