// K/V stored as f32: one 16-byte vector is four values.
@group(0) @binding(2) var<storage, read> k_cache: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v_cache: array<vec4<f32>>;

alias KvRaw = vec4<f32>;
// vec4<f32> values per 16-byte vector.
const HALVES: u32 = 1u;

fn kv_part(raw: KvRaw, half: u32) -> vec4<f32> {
  return raw;
}

fn to_raw(x: vec4<f32>) -> KvRaw {
  return x;
}

fn from_raw(raw: KvRaw) -> vec4<f32> {
  return raw;
}
