#!/usr/bin/env python3
"""Plants small, realistic bugs one at a time and runs the CPU test suite against each.

Each mutant replaces one exact piece of source text (the script refuses to run when that text is
gone or ambiguous, so the list must follow the code when kernels or the lowering change shape).
For every mutant the suite runs in two stages: first the tests that need no generated GPU kernels
(fast to rebuild; they catch semantic bugs), and, only if all of those pass, the whole CPU suite
(`bazel test //...`, which also regenerates and assembles every kernel). A mutant is "killed"
when a test fails, "survived" when the whole suite passes, and "no-build" when it does not
compile (that says nothing about the tests and counts as a defect of the list).

Usage: tests/mutants/run_mutants.py [--only NAME[,NAME...]] [--tests TARGET[,TARGET...]] [--list]
The tree is restored after every mutant, also on Ctrl-C. Results go to stdout (bazel's output to
$TMPDIR/tileattn-mutants/NAME.log); record them in tests/RESULTS.md.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Mutant:
    name: str
    path: str
    old: str
    new: str
    why: str
    occurrence: int = 1  # which occurrence of `old` (1-based) when it appears more than once


MUTANTS = [
    Mutant("key_range_hi", "attention/kernels/attention_common.cc",
           "min(seq.len_k, m0 + bm + off + right)", "min(seq.len_k, m0 + bm - 1 + off + right)",
           "key_range: exclusive end one short (drops the last key of the window's right edge)"),
    Mutant("key_range_full_lo", "attention/kernels/attention_common.cc",
           "ceil_to(select(has_left, m0 + bm - 1 + off - left, 0), bn)", "ceil_to(select(has_left, m0 + off - left, 0), bn)",
           "key_range: unmasked blocks start at the first row's left edge, not the last row's"),
    Mutant("query_range_hi", "attention/kernels/attention_common.cc",
           "min(seq.len_q, n0 + bn - off + left)", "min(seq.len_q, n0 + bn - 1 - off + left)",
           "query_range: exclusive end one short (dK/dV misses a query block)"),
    Mutant("causal_diagonal", "attention/kernels/attention_common.cc",
           "(rel <= s.window_right)", "(rel < s.window_right)",
           "visible: the diagonal itself masked out under causal"),
    Mutant("varlen_k_bounds", "attention/kernels/attention_common.cc",
           "load_scalar(s.cu_seqlens_k, b + 1) - k0", "load_scalar(s.cu_seqlens_q, b + 1) - q0",
           "varlen: key length read from cu_seqlens_q (copy-paste)"),
    Mutant("rescale", "attention/kernels/fwd.cc",
           "return carry(acc * o.alpha.col()", "return carry(acc",
           "forward: accumulator not rescaled when the running max grows"),
    Mutant("lse_base", "attention/kernels/fwd.cc",
           "(m_i + log2(l_i)) * kLn2", "(m_i + log2(l_i))",
           "forward: LSE left in the log2 domain"),
    Mutant("gqa_head_mapping", "attention/kernels/fwd.cc",
           "hk = h / s.heads_per_kv;", "hk = h % (s.nheads / s.heads_per_kv);",
           "forward: q head -> kv head interleaved instead of grouped"),
    Mutant("delta", "attention/kernels/bwd.cc",
           "sum(o.to<f32>() * d.to<f32>(), 1)", "sum(d.to<f32>() * d.to<f32>(), 1)",
           "backward: delta = rowsum(dO * dO) instead of rowsum(dO * O)"),
    Mutant("lse_log2_base", "attention/kernels/bwd.cc",
           "where(lse == -INFINITY, INFINITY, lse * kLog2e)", "where(lse == -INFINITY, INFINITY, lse)",
           "backward preprocess: the LSE handed to the dK/dV and dQ programs left in the natural-log domain"),
    Mutant("lse_log2_empty_rows", "attention/kernels/bwd.cc",
           "where(lse == -INFINITY, INFINITY, lse * kLog2e)", "lse * kLog2e",
           "backward preprocess: rows that saw no key keep LSE = -inf (their probabilities become NaN)"),
    Mutant("softcap_derivative", "attention/kernels/bwd.cc",
           "ds * (1.0 - tanh_t * tanh_t)", "ds * (1.0 - tanh_t)",
           "backward (both programs' shared score gradient): softcap derivative 1 - tanh instead of 1 - tanh^2"),
    Mutant("dq_scale", "attention/kernels/bwd.cc",
           "Tile dq = dot(key_major ? trans(ds) : ds, k_blk) * s.softmax_scale;", "Tile dq = dot(key_major ? trans(ds) : ds, k_blk);",
           "backward: atomic dQ contributions miss the softmax scale"),
    Mutant("reduction_shuffle", "lowering/passes/emit_reduce.cc",
           "e.i32(int64_t(1) << bit)", "e.i32(int64_t(2) << bit)",
           "lowering: butterfly reduction shuffles the wrong lane distance"),
    Mutant("pipeline_wait", "lowering/passes/emit_pipeline.cc",
           "CpAsyncWaitGroupOp>(loc, int32_t(S - 2))", "CpAsyncWaitGroupOp>(loc, int32_t(S - 1))",
           "lowering: pipelined loop waits for one copy group too few"),
    Mutant("tma_no_wait", "lowering/passes/emit_pipeline.cc",
           "for (Piped* p : waitBefore.lookup(&inner)) emitTmaWait(e, loc, *p->tma, p->slot, p->use);", "",
           "lowering: a TMA stage is read without waiting on its full barrier"),
    Mutant("tma_parity", "lowering/passes/emit_tma.cc",
           "Value parity = b.create<arith::AndIOp>(loc, use, e.i32(1));",
           "Value parity = b.create<arith::XOrIOp>(loc, b.create<arith::AndIOp>(loc, use, e.i32(1)), e.i32(1));",
           "lowering: TMA waits use the other phase's parity"),
    Mutant("tma_expect_bytes", "lowering/passes/emit_tma.cc",
           "e.i32(tile.rows * tile.cols * 2)", "e.i32(tile.rows * tile.cols)",
           "lowering: the full barrier is armed with half the tile's bytes"),
    Mutant("tma_chunk_column", "lowering/passes/emit_tma.cc",
           "e.i32(c * colsPerChunk)", "e.i32(c * colsPerChunk * 2)",
           "lowering: TMA column chunks start at the wrong column"),
    Mutant("tma_row_stride", "lowering/passes/emit_tma.cc",
           "return {base, b.create<arith::MulIOp>(loc, toI64(b, loc, strides[0]), e.i64(2))};",
           "return {base, b.create<arith::MulIOp>(loc, toI64(b, loc, strides[0]), e.i64(1))};",
           "lowering: the tensor map's row stride in elements, not bytes"),
    Mutant("query_range_full_lo", "attention/kernels/attention_common.cc",
           "Int full_lo = ceil_to(select(right >= 0, n0 + bn - 1 - off - right, 0), bm);",
           "Int full_lo = ceil_to(select(right >= 0, n0 - off - right, 0), bm);",
           "query_range: the dK/dV program runs the causal diagonal's query blocks unmasked"),
    Mutant("staging_alias_untransposed", "lowering/passes/emit_convert_dot.cc",
           "  if (throughTrans(owner) == throughTrans(convert)) return t;",
           "  return t;",
           "lowering: a conversion sharing another's staging region reads it untransposed"),
    Mutant("wgmma_column_block", "lowering/passes/emit_wgmma.cc",
           "Value col = wn == 1 ? e.i32(int32_t(n0)) : b.create<arith::AddIOp>(loc, wgCol, e.i32(int32_t(n0))).getResult();",
           "Value col = e.i32(int32_t(n0));",
           "lowering: warpgroups splitting N all read B's first column block"),
    Mutant("pipeline_second_use", "lowering/passes/emit_pipeline.cc",
           "          e.pipelineReads[use.convert] = tile;",
           "          if (!e.pipelineReads.count(use.convert)) e.pipelineReads[use.convert] = std::make_shared<SmemTile>(bufferTile(shape, 1)), e.pipelineReads[use.convert]->slotBase = slotBase;",
           "lowering: every use of a multi-use pipelined load reads the stage untransposed"),
    Mutant("staging_dies_at_dot", "lowering/passes/convert_to_gpu.cc",
           "if (stages && stages.getInt() >= 2) last = std::max(last, span[parentLoop].second);",
           "(void)stages;",
           "lowering: a staged operand's region is reused while the dot reading it is still in flight"),
    Mutant("tma_no_empty_wait", "lowering/passes/emit_pipeline.cc",
           "issueStage(e, forOp, p, m, writeSlot, valid, tma, refill, previousUse);",
           "issueStage(e, forOp, p, m, writeSlot, valid, tma);",
           "lowering: TMA refills a stage without waiting for the warps to hand it back"),
    Mutant("tma_no_hand_back", "lowering/passes/emit_pipeline.cc",
           "auto handBackStage = [&e, loc, pipe, slot] { emitTmaHandBack(e, loc, pipe, slot); };",
           "auto handBackStage = [] {};",
           "lowering: warps never arrive on the empty barriers"),
    Mutant("tma_hand_back_in_flight", "lowering/passes/emit_pipeline.cc",
           "          if (reading >= 0)\n", "          if (false)\n",
           "lowering: a stage goes back while the wgmma reading it is still in flight"),
    Mutant("wgmma_wait_too_few", "lowering/passes/emit_wgmma.cc",
           "std::to_string(e.inflightDots.size() - 1 - last)", "std::to_string(e.inflightDots.size() - last)",
           "lowering: a deferred wgmma wait leaves the group it settles in flight"),
    Mutant("tma_empty_count", "lowering/passes/emit_tma.cc",
           "p.emptyOffset() + 8 * s), e.i32(e.numWarps)}", "p.emptyOffset() + 8 * s), e.i32(1)}",
           "lowering: an empty barrier completes after one warp's arrival"),
    Mutant("tma_no_barrier_init", "lowering/passes/emit_tma.cc",
           "inlineAsm(e.b, loc, ptx::kMbarrierInit, \"r,r\", {sharedAddress(e, loc, p.fullOffset() + 8 * s), e.i32(1)});", "",
           "lowering: the stage barriers are never initialised"),
    Mutant("entry_barriers_not_initialised", "lowering/passes/emit_tma.cc",
           "  if (e.barriersAtEntry.empty()) return;\n", "  return;\n",
           "lowering: the producer-fed loops' barriers are left to an entry initialisation that never comes"),
    Mutant("turns_no_priming", "lowering/passes/emit_pipeline.cc",
           "[&] { namedBarrier(e, loc, ptx::kNamedBarrierArrive, e.i32(ptx::kTurnBarrierFirst)); });", "[&] {});",
           "lowering: warpgroup turns without the permission that lets group 0 go first"),
    Mutant("row_rides_without_arrive", "lowering/passes/emit_pipeline.cc",
           "        emitRowCopiesArrive(e, loc, *p.tma, p.slot);\n", "",
           "lowering: the producer's row-copying lanes do not arrive on the stage's full barrier (its phase never completes)"),
    Mutant("row_rides_arrive_before_stores", "lowering/passes/emit_pipeline.cc",
           "        emitTmaIssue(e, loc, *p.tma, p.slot, offsets, always);\n        Value stage",
           "        emitTmaIssue(e, loc, *p.tma, p.slot, offsets, always);\n        emitRowCopiesArrive(e, loc, *p.tma, p.slot);\n        Value stage",
           "lowering: a row-copying lane arrives on the stage's full barrier before its stores (and again after)"),
    Mutant("row_rides_one_arrival", "lowering/passes/emit_tma.cc",
           "return byProducer && load->hasAttr(kStageEndAttr) ? 1 + kRowCopyLanes : 1;", "return 1;",
           "lowering: a carrier's full barrier counts only the tile's arrival, not the row-copying lanes'"),
    Mutant("row_stage_empty_counts_warps", "lowering/passes/emit_tma.cc",
           "return p.rowsRide() ? e.numWarps * 32 : e.numWarps;", "return e.numWarps;",
           "lowering: a stage with riding rows, handed back by every consumer lane, has an empty barrier counting one arrival per warp"),
    Mutant("hand_back_under_inflight_dot", "lowering/passes/emit_pipeline.cc",
           "              if (reader->isAncestor(e.inflightDots[k].dot)) reading = int(k);",
           "              if (reader == &inner && reader->isAncestor(e.inflightDots[k].dot)) reading = int(k);",
           "lowering: a stage whose last reader is a riding row goes back while the dot reading its tile is still in flight"),
    Mutant("row_rides_no_empty_wait", "lowering/passes/emit_pipeline.cc",
           "        emitStageEmptyWait(e, loc, *p.tma, p.slot, refill, previousUse);\n", "",
           "lowering: the producer's lanes copy a row into a stage before the consumers handed it back"),
    Mutant("producer_no_empty_wait", "lowering/passes/emit_pipeline.cc",
           "Value refill = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, p.use, e.i32(1));",
           "Value refill = b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 0);",
           "lowering: the producer warpgroup refills a stage without waiting for the consumers to hand it back"),
    Mutant("producer_wrong_parity", "lowering/passes/emit_pipeline.cc",
           "Value previousUse = b.create<arith::SubIOp>(loc, p.use, e.i32(1));", "Value previousUse = p.use;",
           "lowering: the producer waits for the empty barrier's phase of the wrong use"),
    Mutant("producer_no_map_build", "lowering/passes/emit_pipeline.cc",
           "        emitTmaMapBuild(e, loc, *p.tma, operands[i].ptr, operands[i].shape, operands[i].strides, e.tmaIssuer);",
           "        (void)i;",
           "lowering: the producer issues copies through tensor maps nobody built or published"),
    Mutant("producer_skips_meeting", "lowering/passes/emit_pipeline.cc",
           "    if (!e.barriersAtEntry.count(head) || !e.freshBuffers.count(head)) return true;\n", "    (void)head;\n",
           "lowering: the producer fills stage buffers an earlier staged tile still occupies, without meeting the consumers"),
    Mutant("ring_base_dropped", "lowering/passes/emit_pipeline.cc",
           "    p.base = it == e.ringUses.end() ? Value() :", "    p.base = true ? Value() :",
           "lowering: a loop of a stage ring starts counting its uses at 0 (stage and parity of the ring's earlier loops and runs)"),
    Mutant("ring_count_not_advanced", "lowering/passes/emit_pipeline.cc",
           "    if (!trips) trips = tripCount(e, loc, loop);", "    if (!trips) trips = e.i32(0);",
           "lowering: a ring's use count does not move on after a loop (the next loop, or the next tile's run, reuses stages and parities)"),
    Mutant("turns_around_barrier", "lowering/passes/emit_pipeline.cc",
           "      if (barrierInTurn(turnOps))", "      if (false && barrierInTurn(turnOps))",
           "lowering: warpgroup turns kept around a block barrier between the dots (a group in its turn waits for one waiting for its turn)"),
    Mutant("peeled_block_pv_dropped", "attention/kernels/fwd.cc",
           "acc = dot(p_prev, v_at(select(n0 == mid_lo, first_lo, n0 - BN)), acc);", "(void)p_prev;",
           "forward: the rotated loop no longer adds the previous block's P V (the peeled block's and every later one's)"),
    Mutant("peeled_block_twice", "attention/kernels/fwd.cc",
           "Int peeled_hi = min(full_lo + BN, full_hi);", "Int peeled_hi = min(full_lo + BN, full_hi) - BN;",
           "forward (block-sparse): the rotated loop starts at the peeled block again (its P V of the block before full_lo)"),
    Mutant("edge_first_middle_from_peeled", "attention/kernels/fwd.cc",
           "select(has_edge, r.full_lo, first_hi), r.full_hi);", "select(has_edge, r.full_lo, first_lo), r.full_hi);",
           "forward: without a right edge the middle starts at the peeled block again (counted twice)"),
    Mutant("edge_first_previous_v", "attention/kernels/fwd.cc",
           "v_at(select(n0 == mid_lo, first_lo, n0 - BN))", "v_at(n0 - BN)",
           "forward: the middle's first P V reads the block before it, not the peeled right-edge block"),
    Mutant("wgmma_fresh_accumulator_read", "lowering/passes/emit_wgmma.cc",
           "operands.push_back(fresh && k0 == 0 ? zero : one);", "operands.push_back(one);",
           "lowering: a fresh accumulator enters as poison but its first k-step still adds to it (scale-d 1)"),
    Mutant("wgmma_fresh_every_step_overwrites", "lowering/passes/emit_wgmma.cc",
           "operands.push_back(fresh && k0 == 0 ? zero : one);", "operands.push_back(fresh ? zero : one);",
           "lowering: every k-step of a fresh accumulator's dot overwrites it (only the last k-step survives)"),
    Mutant("dq_first_dk_not_accumulated", "attention/kernels/bwd.cc",
           "if (dq_under_dk) dk = dot(ds_t, qb.q, dk);", "if (dq_under_dk) dk = dot(ds_t, qb.q);",
           "backward: where dQ's dot goes first (atomic dQ, d=128), dK's dot no longer adds into the running dK"),
    Mutant("roles_wanted_rings_whole_kernel", "lowering/passes/convert_to_gpu.cc",
           "carriedAcrossRuns(loop) && producerFeedable(cast<scf::ForOp>(loop))",
           "carriedAcrossRuns(loop) && tmaCapable(cast<ti::LoadBlockOp>(load))",
           "lowering: a loop no producer can feed (a pipelined row among its loads) keeps its stage buffers over the whole kernel"),
    Mutant("register_split_unbalanced", "lowering/backend/register_split.cc",
           "const int block = launch_registers(producer_threads + consumer_threads) * (producer_threads + consumer_threads);",
           "const int block = kRegisterFile;",
           "back end: register splits balanced against the whole register file, not what the block holds at launch (setmaxnreg.inc waits forever)"),
    Mutant("roles_aligned_meeting", "lowering/passes/emit_pipeline.cc",
           "inlineAsm(e.b, loc, ptx::kBarrierSyncUnaligned,", "inlineAsm(e.b, loc, ptx::kNamedBarrierSync,",
           "lowering: producer and consumers meet on the .aligned bar.sync at different instructions"),
    Mutant("row_no_zero_fill", "lowering/passes/emit_pipeline.cc",
           "Value size = b.create<arith::SelectOp>(loc, ok, e.i32(4), e.i32(0));", "Value size = e.i32(4);",
           "lowering: a pipelined row copies elements past its extent instead of zero-filling them"),
    Mutant("row_reads_stage_being_filled", "lowering/passes/emit_pipeline.cc",
           "rowReads[p.load] = {&p, slotBase};",
           "rowReads[p.load] = {&p, b.create<arith::AddIOp>(loc, e.i32(p.offset), b.create<arith::MulIOp>(loc, writeSlot, e.i32(p.stage))).getResult()};",
           "lowering: a pipelined row is read from the stage its next copy is filling, not the iteration's"),
    Mutant("offset_arith_sub_sign", "lowering/passes/kernel_emitter.cc",
           "uint32_t(sub ? a.offset - c.offset : a.offset + c.offset)", "uint32_t(a.offset + c.offset)",
           "lowering: integer tile subtraction adds the registers' constants instead of subtracting them"),
    Mutant("offset_arith_shared_base", "lowering/passes/kernel_emitter.cc",
           "Value& base = bases[{a.base, c.base}];", "Value& base = bases[{a.base, Value()}];",
           "lowering: registers with different bases share the first register's combined base"),
    Mutant("consumer_barrier_whole_block", "lowering/passes/convert_to_gpu.cc",
           "{e.i32(ptx::kConsumerBarrier), e.i32(consumerThreads)}", "{e.i32(ptx::kConsumerBarrier), e.i32(e.blockThreads)}",
           "lowering: the consumers' block-wide barriers wait for the producer warpgroup too"),
    Mutant("interp_exp2", "dsl/interp/exec_elementwise.cc",
           "return std::exp2(x);", "return std::exp(x);",
           "interpreter: exp2 evaluated as exp"),
    Mutant("variant_mask_dropped", "attention/kernels/attention_common.cc",
           "return mod.has_mask() ? v & mod.mask(c) : v;", "return v;",
           "variants: the mask_mod is never applied (every variant's mask dropped)"),
    Mutant("document_mask_query_side", "attention/variants/document_mask.cc",
           "query_doc = ids_of(c, q.rows + q.seq.diag);", "query_doc = ids_of(c, q.rows);",
           "document_mask: the per-program set-up reads the query's ids without the diagonal offset"),
    Mutant("variant_grad_dropped", "attention/kernels/bwd.cc",
           "Tile ds = mod.grad(ds_out, scores_in, ctx);",
           "Tile ds = ds_out;",
           "variants: the backward skips a non-additive score mod's gradient hook"),
    Mutant("variant_stride_from_wrong_dim", "attention/variants/arg_layout.cc",
           "l.stride = given->stride(tensor_dim);", "l.stride = given->stride(0);",
           "variant arguments: every dim indexed with the first dim's stride"),
    Mutant("rel_pos_bias_grad_bucket", "attention/variants/rel_pos_bias.cc",
           "grad.scatter_add({c.h, bucket}, dscores, interior);",
           "grad.scatter_add({c.h, min(bucket + 1, last)}, dscores, interior);",
           "rel_pos_bias: the table's gradient lands in the neighbouring bucket"),
    Mutant("chain_arg_grad_order", "attention/variants/variant_kernels.cc",
           "if (mods[i]->modifies_scores() && i > 0) d = mods[i]->grad(d, inputs[i], c);", "",
           "chains: a trainable part gets d loss / d (the chain's output), not of its own output"),
    Mutant("block_mask_partial_as_full", "attention/kernels/block_mask.cc",
           "select(all == 1, kBlockFull, select(any == 1, kBlockPartial, kBlockEmpty))",
           "select(any == 1, kBlockFull, kBlockEmpty)",
           "block masks: partly visible blocks classed full (their mask never evaluated)"),
    Mutant("block_mask_partial_uncounted", "attention/kernels/block_mask.cc",
           "select(cls == kBlockPartial, n_partial + 1, n_partial)", "n_partial",
           "block masks: partial blocks written but never counted (no list holds them)"),
    Mutant("block_mask_full_entry_off", "attention/kernels/block_mask.cc",
           "store_one(line, 2 + length + n_full, block);", "store_one(line, 2 + length + n_full, block + 1);",
           "block masks: the full list names the next block"),
    Mutant("block_mask_counts_swapped", "attention/kernels/block_mask.cc",
           "store_one(line, 0, n_partial);", "store_one(line, 0, n_full);",
           "block masks: the partial list's count is the full list's"),
    Mutant("block_sparse_dkdv_skips_full", "attention/kernels/bwd.cc",
           "return for_range(0, lists.n_full, 1, acc, listed(lists.full, false), /*stages=*/2);", "return acc;",
           "block-sparse dK/dV: the full query blocks skipped"),
    Mutant("block_sparse_fwd_skips_full", "attention/kernels/fwd.cc",
           "state = rotated_run(state, 0, peeled_hi, false, peeled_hi, lists.n_full, 1, listed_full);", "",
           "block-sparse forward: the full key blocks skipped"),
    Mutant("block_sparse_fwd_previous_v", "attention/kernels/fwd.cc",
           "acc = dot(p_prev, v_at(key(select(j == mid_lo, first_lo, j - step))), acc);",
           "acc = dot(p_prev, v_at(key(j)), acc);",
           "rotated run: the previous block's P multiplies this block's V"),
    Mutant("ahead_list_read_unguarded", "lowering/passes/emit_pipeline.cc",
           "out = maskedLoad(e.b, loc, elem, addr, valid, zero, elem.getIntOrFloatBitWidth() / 8);",
           "out = maskedLoad(e.b, loc, elem, addr, Value(), zero, elem.getIntOrFloatBitWidth() / 8);",
           "pipelining: a list entry read ahead for an iteration that does not run (past the list's end)"),
    Mutant("bulk_no_read_wait", "lowering/passes/emit_bulk_reduce.cc",
           "  inlineAsm(b, loc, ptx::kBulkWaitGroupRead0, \"\", {});\n", "",
           "bulk reduce-add: the staging region rewritten without waiting for the earlier reduces to read it"),
    Mutant("bulk_no_fence", "lowering/passes/emit_bulk_reduce.cc",
           "  inlineAsm(b, loc, ptx::kFenceProxyAsyncShared, \"\", {});\n", "",
           "bulk reduce-add: staged fragments not fenced for the async proxy"),
    Mutant("bulk_no_drain", "lowering/passes/emit_bulk_reduce.cc",
           "{ inlineAsm(e.b, loc, ptx::kBulkWaitGroup0, \"\", {}); }", "{}",
           "bulk reduce-add: the kernel exits with reduces in flight"),
    Mutant("bulk_source_pitch", "lowering/passes/emit_bulk_reduce.cc",
           "i32c(r * p.pitchBytes + c * kF32Bytes)", "i32c(r * p.cols * kF32Bytes + c * kF32Bytes)",
           "bulk reduce-add: the source rows read with the unpadded pitch"),
    Mutant("bulk_row_bound", "lowering/passes/emit_bulk_reduce.cc",
           "arith::CmpIPredicate::ult, add(firstRow, i32c(r)), shape0", "arith::CmpIPredicate::ule, add(firstRow, i32c(r)), shape0",
           "bulk reduce-add: the row one past the tensor's end added too"),
    Mutant("assume_alignment_ignores_offsets", "lowering/passes/axis_info.cc",
           "align = std::max(align, std::min(d.getInt(), offsetBytes));", "align = std::max(align, d.getInt());",
           "argument assumptions: a pointer's alignment kept through offsets of unknown divisibility"),
    Mutant("assume_host_no_ragged_switch", "attention/host/problem.cc",
           "  if (p.blocks.dims.ragged) return;\n  for (auto [t, name] : operands)",
           "  if (p.blocks.dims.ragged || true) return;\n  for (auto [t, name] : operands)",
           "argument assumptions: unaligned operands sent to the kernels that assume aligned rows"),
    Mutant("assume_launch_unchecked", "dsl/runtime/kernel_image.cc",
           "    if (p.divisor <= 1 && !p.positive) continue;", "    continue;",
           "argument assumptions: the GPU launch no longer checks them"),
    Mutant("assume_interp_unchecked", "dsl/interp/grid.cc",
           "const bool integral = got.kind != Arg::Kind::f32;", "const bool integral = false;",
           "argument assumptions: the interpreter no longer checks them"),
    Mutant("tma_empty_box_not_shifted", "lowering/passes/emit_tma.cc",
           "Value row = p.empty ? b.create<arith::SelectOp>(loc, p.empty, e.i32(-tile.rows), offsets[0]).getResult() : offsets[0];",
           "Value row = offsets[0];",
           "TMA: an empty tensor's copies read row 0 of its (extent-1) map"),
    Mutant("ulysses_variant_args_not_sliced", "distributed/dist_variant_args.cc",
           "    t = slice(t, h.dim, s.first(rank), s.per_rank());\n", "",
           "Ulysses: every rank's step gets the variant's per-head arguments of all heads"),
    Mutant("ulysses_variant_grads_not_summed", "distributed/dist_variant_args.cc",
           "    out[a.name] = sum_over_group(group, ops, mine.view);", "    out[a.name] = std::move(mine);",
           "Ulysses: a trainable argument's gradient keeps only this rank's heads"),
]

# Tests that need no generated GPU kernels: they rebuild in seconds to a few minutes after a
# change and hold every semantic check (interpreter accuracy, block ranges, simulator, goldens).
FAST_SUITE = [
    "//tests/attention/...",
    "//tests/reference/...",
    "//tests/interp/...",
    "//tests/dsl/...",
    "//tests/lowering:simt_test",
    "//tests/lowering:pipelined_loop_to_gpu_golden_test",
    "//tests/lowering:assumed_alignment_golden_test",
    "//tests/runtime:param_assumptions_test",
    "//tests/distributed:interp_ring_test",
]


def bazel_test(targets, log_path):
    """Runs bazel test; returns (status, seconds, first failing target or '')."""
    t0 = time.time()
    cmd = ["bazel", "test", "--notest_keep_going", "--test_output=summary"] + targets
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.time() - t0
    failing = []
    with open(log_path, errors="replace") as log:
        for line in log:
            words = line.split()
            if words and words[0].startswith("//") and ("FAILED" in words or "TIMEOUT" in words):
                failing.append(words[0])
    failing = ", ".join(sorted(set(failing)))
    if rc == 0:
        return "pass", seconds, ""
    if rc == 3 or failing:  # tests ran and at least one failed
        return "fail", seconds, failing
    return "no-build", seconds, ""


class Planted:
    """Context manager: the source with one mutant applied, restored on exit."""

    def __init__(self, m):
        self.m = m
        self.path = os.path.join(ROOT, m.path)

    def __enter__(self):
        with open(self.path) as f:
            self.original = f.read()
        count = self.original.count(self.m.old)
        if count < self.m.occurrence:
            raise SystemExit(f"mutant {self.m.name}: '{self.m.old}' found {count} times in {self.m.path}; "
                             "update the list to follow the code")
        at = -1
        for _ in range(self.m.occurrence):
            at = self.original.index(self.m.old, at + 1)
        with open(self.path, "w") as f:
            f.write(self.original[:at] + self.m.new + self.original[at + len(self.m.old):])
        return self

    def __exit__(self, *exc):
        with open(self.path, "w") as f:
            f.write(self.original)
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated mutant names")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--tests", default="",
                    help="comma-separated test targets to run instead of the two-stage suite (e.g. to see "
                         "which mutants one test kills on its own)")
    args = ap.parse_args()
    first_stage = args.tests.split(",") if args.tests else FAST_SUITE
    chosen = MUTANTS
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in {m.name for m in MUTANTS}]
        if unknown:
            print(f"--only: unknown mutant(s) {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = [m for m in MUTANTS if m.name in names]
    if args.list:
        for m in chosen:
            print(f"{m.name:20} {m.path}: {m.why}")
        return 0

    # SIGTERM restores the tree like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    logs = os.path.join(tempfile.gettempdir(), "tileattn-mutants")
    os.makedirs(logs, exist_ok=True)
    status, seconds, failing = bazel_test(first_stage, os.path.join(logs, "baseline.log"))
    print(f"baseline (unmutated, {', '.join(first_stage)}): {status} in {seconds:.0f} s", flush=True)
    if status != "pass":
        print("the unmutated suite must pass first; see " + os.path.join(logs, "baseline.log"), file=sys.stderr)
        return 1

    results = []
    for m in chosen:
        with Planted(m):
            log = os.path.join(logs, m.name + ".log")
            status, seconds, failing = bazel_test(first_stage, log)
            stage = "fast suite" if not args.tests else "--tests"
            if status == "pass" and not args.tests:
                status, more, failing = bazel_test(["//..."], log)
                seconds += more
                stage = "whole suite"
        verdict = {"fail": "killed", "pass": "survived", "no-build": "no-build"}[status]
        results.append((m, verdict))
        by = f" by {failing}" if failing else ""
        print(f"{m.name:20} {verdict:8}{by} ({stage}, {seconds:.0f} s) -- {m.why}", flush=True)

    killed = sum(1 for _, v in results if v == "killed")
    print(f"{killed}/{len(results)} mutants killed")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
