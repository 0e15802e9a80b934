// Workgroup-wide exclusive prefix sum of one u32 per invocation (Hillis–Steele over SCAN_WG
// entries in workgroup memory): .x is this invocation's exclusive prefix, .y the workgroup's total.
// Must be called from uniform control flow; the memory is free for reuse when it returns.
const SCAN_WG: u32 = 256u;
var<workgroup> scan_buffer: array<u32, SCAN_WG>;

fn scan_exclusive(lid: u32, value: u32) -> vec2<u32> {
  scan_buffer[lid] = value;
  workgroupBarrier();
  for (var offset = 1u; offset < SCAN_WG; offset <<= 1u) {
    var add = 0u;
    if (lid >= offset) {
      add = scan_buffer[lid - offset];
    }
    workgroupBarrier();
    scan_buffer[lid] += add;
    workgroupBarrier();
  }
  let inclusive = scan_buffer[lid];
  let total = scan_buffer[SCAN_WG - 1u];
  workgroupBarrier();
  return vec2<u32>(inclusive - value, total);
}
