// K/V stored as f16, read as 16-byte vec4<u32> words and widened with unpack2x16float: the
// bandwidth of f16 storage without the shader-f16 feature (products and softmax stay f32).
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<u32>>;

alias KvRaw = vec4<u32>;
// vec4<f32> values per 16-byte vector: eight halves.
const HALVES: u32 = 2u;

fn kv_part(raw: KvRaw, half: u32) -> vec4<f32> {
  if (half == 0u) {
    return vec4<f32>(unpack2x16float(raw.x), unpack2x16float(raw.y));
  }
  return vec4<f32>(unpack2x16float(raw.z), unpack2x16float(raw.w));
}

// Bit-exact f32 vectors in the K tile's memory (the slices' accumulators at the end).
fn to_raw(x: vec4<f32>) -> KvRaw {
  return bitcast<vec4<u32>>(x);
}

fn from_raw(raw: KvRaw) -> vec4<f32> {
  return bitcast<vec4<f32>>(raw);
}
