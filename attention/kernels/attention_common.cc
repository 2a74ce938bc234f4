// Shared building blocks of the attention kernels (see attention_kernel.h).
#include "attention/kernels/attention_kernel.h"

namespace tile::attention {

AttnConfig AttnConfig::from(const Params& p) {
  AttnConfig c;
  c.head_dim = int(p.get_int("HEAD_DIM"));
  c.head_dim_v = int(p.get_int("HEAD_DIM_V"));
  c.ragged = p.get_bool("RAGGED");
  c.block_m = int(p.get_int("BLOCK_M"));
  c.block_n = int(p.get_int("BLOCK_N"));
  c.dtype = p.get_dtype("DTYPE");
  c.softcap = p.get_bool("SOFTCAP");
  c.num_warps = int(p.get_int("NUM_WARPS"));
  return c;
}

Params AttnConfig::params() const {
  return Params{{"HEAD_DIM", head_dim}, {"HEAD_DIM_V", head_dim_v}, {"RAGGED", ragged},  {"BLOCK_M", block_m},
                {"BLOCK_N", block_n},   {"DTYPE", dtype},           {"SOFTCAP", softcap}, {"NUM_WARPS", num_warps}};
}

HeadTensor HeadTensor::declare(KernelBuilder& k, const std::string& name, DType dtype, bool aligned_rows) {
  constexpr int64_t kRowAlignBytes = 16;  // TMA's, and a 16-byte vector's
  ArgAssumption base, stride, row;
  if (aligned_rows) {
    base.divisor = kRowAlignBytes;
    stride.divisor = kRowAlignBytes / dtype_size(dtype);
    row = stride;
    row.positive = true;
  }
  HeadTensor t;
  t.ptr = k.arg_ptr(name, dtype, base);
  t.batch_stride = k.arg_i32(name + "_batch_stride", stride);
  t.row_stride = k.arg_i32(name + "_row_stride", row);
  t.head_stride = k.arg_i32(name + "_head_stride", stride);
  return t;
}

Ptr HeadTensor::head(const Int& b, const Int& row0, const Int& h) const {
  // 64-bit: a packed (batch, seqlen, 3, heads, dim) tensor passes 2^31 elements at B=128, S=4096.
  auto wide = [](const Int& x) { return x.to<i64>(); };
  return ptr + (wide(b) * wide(batch_stride) + wide(row0) * wide(row_stride) + wide(h) * wide(head_stride));
}

AttnScalars AttnScalars::declare(KernelBuilder& k) {
  AttnScalars s;
  s.head_dim = k.arg_i32("head_dim");
  s.head_dim_v = k.arg_i32("head_dim_v");
  s.cu_seqlens_q = k.arg_ptr("cu_seqlens_q", DType::i32);
  s.cu_seqlens_k = k.arg_ptr("cu_seqlens_k", DType::i32);
  s.is_varlen = k.arg_i32("is_varlen");
  s.seqlen_q = k.arg_i32("seqlen_q");
  s.seqlen_k = k.arg_i32("seqlen_k");
  s.nheads = k.arg_i32("nheads");
  s.heads_per_kv = k.arg_i32("heads_per_kv");
  s.softmax_scale = k.arg_f32("softmax_scale");
  s.qk_scale = k.arg_f32("qk_scale");
  s.cap_scale = k.arg_f32("cap_scale");
  s.window_left = k.arg_i32("window_left");
  s.window_right = k.arg_i32("window_right");
  s.lse_batch = k.arg_i32("lse_batch_stride");
  s.lse_head = k.arg_i32("lse_head_stride");
  return s;
}

SeqBounds sequence_bounds(const AttnScalars& s, const Int& b) {
  auto [q0, k0, len_q, len_k] = if_(
      s.is_varlen != 0,
      [&] {
        Int q0 = load_scalar(s.cu_seqlens_q, b), k0 = load_scalar(s.cu_seqlens_k, b);
        return carry(q0, k0, load_scalar(s.cu_seqlens_q, b + 1) - q0,
                     load_scalar(s.cu_seqlens_k, b + 1) - k0);
      },
      [&] { return carry(Int(0), Int(0), s.seqlen_q, s.seqlen_k); });
  return SeqBounds{q0, k0, len_q, len_k, len_k - len_q};
}

HeadDimsIn head_dims(const AttnConfig& c, const AttnScalars& s) {
  if (c.ragged) return HeadDimsIn{s.head_dim, s.head_dim_v};
  return HeadDimsIn{Int(c.head_dim), Int(c.head_dim_v)};
}

Tile scale_scores(const Tile& raw, const AttnConfig& c, const AttnScalars& s, Tile* tanh_out) {
  if (!c.softcap) return raw * s.qk_scale;
  Tile t = tanh(raw * s.qk_scale);
  if (tanh_out) *tanh_out = t;
  return t * s.cap_scale;
}

Tile visible(const Tile& rows, const Tile& cols, const SeqBounds& seq, const AttnScalars& s) {
  Tile rel = cols - rows - seq.diag;  // j - (i + diag): 0 on the bottom-right aligned diagonal
  Tile in_seq = (rows < seq.len_q) & (cols < seq.len_k);
  Tile right_ok = (s.window_right < 0) | (rel <= s.window_right);
  Tile left_ok = (s.window_left < 0) | (rel >= -s.window_left);
  return in_seq & right_ok & left_ok;
}

Tile visible_to(ScoreMod& mod, const ScoreContext& c, const AttnScalars& s) {
  Tile v = visible(c.rows, c.cols, c.seq, s);
  return mod.has_mask() ? v & mod.mask(c) : v;
}

namespace {
Int floor_to(const Int& x, int block) { return max(x, 0) / block * block; }
Int ceil_to(const Int& x, int block) { return cdiv(max(x, 0), block) * block; }
}  // namespace

KeyRange key_range(const Int& m0, const SeqBounds& seq, const AttnScalars& s, int bm, int bn) {
  const Int &left = s.window_left, &right = s.window_right, &off = seq.diag;
  Int has_left = left >= 0, has_right = right >= 0;
  // Keys any row of the block may see ...
  Int lo = floor_to(select(has_left, m0 + off - left, 0), bn);
  Int hi = max(select(has_right, min(seq.len_k, m0 + bm + off + right), seq.len_k), 0);
  // ... and keys every row of the block sees (whole blocks only, never the ragged tail).
  Int full_hi = floor_to(select(has_right, min(seq.len_k, m0 + off + right + 1), seq.len_k), bn);
  Int full_lo = ceil_to(select(has_left, m0 + bm - 1 + off - left, 0), bn);
  full_hi = min(max(full_hi, lo), hi);
  full_lo = min(max(full_lo, lo), full_hi);
  return KeyRange{lo, full_lo, full_hi, hi};
}

QueryRange query_range(const Int& n0, const SeqBounds& seq, const AttnScalars& s, int bm, int bn) {
  const Int &left = s.window_left, &right = s.window_right, &off = seq.diag;
  // Queries any key of the block is seen by ...
  Int lo = floor_to(select(right >= 0, n0 - off - right, 0), bm);
  Int hi = max(select(left >= 0, min(seq.len_q, n0 + bn - off + left), seq.len_q), 0);
  // ... and query blocks that see every key of the block: whole blocks of queries and of keys
  // only (a ragged block's padding rows must not reach the accumulators unmasked).
  Int full_lo = ceil_to(select(right >= 0, n0 + bn - 1 - off - right, 0), bm);
  Int full_hi = floor_to(select(left >= 0, min(seq.len_q, n0 + 1 - off + left), seq.len_q), bm);
  full_hi = select(n0 + bn <= seq.len_k, full_hi, 0);
  full_lo = min(max(full_lo, lo), hi);
  full_hi = min(max(full_hi, full_lo), hi);
  return QueryRange{lo, full_lo, full_hi, hi};
}

}  // namespace tile::attention
