// Bandwidth probe: a device-to-device copy, one vec4 (16 bytes) per load and per store.
// Each invocation copies ITEMS vectors strided by the workgroup size, so that every load and store
// of a workgroup is one contiguous, fully coalesced span; workgroups tile a 2-D grid because one
// dimension holds at most 65535 of them and a 1 GiB buffer needs more.
const VECTORS: u32 = 1024u;
const WORKGROUP_SIZE: u32 = 256u;
const ITEMS: u32 = 4u;
const GRID_X: u32 = 1u;

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * GRID_X + wid.x) * WORKGROUP_SIZE * ITEMS + lid;
  // @unroll
  for (var i = 0u; i < ITEMS; i++) {
    let at = base + i * WORKGROUP_SIZE;
    if (at < VECTORS) {
      dst[at] = src[at];
    }
  }
}
