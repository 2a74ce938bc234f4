// The `tilegpu` dialect: what the lowering adds to tile programs on their way to the GPU.
//
// It is never written by users. `tile-assign-layouts` attaches one of the layout ENCODINGS below
// to every tensor type of a kernel; `tile-convert-to-gpu` reads them to decide which thread owns
// which element. Every encoding is, underneath, a linear map (register, lane, warp) bits ->
// tensor coordinates (lowering/layout/linear_layout.h); the attributes are the readable names.

#ifndef TILEGPU_OPS_TD
#define TILEGPU_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tilegpu_Dialect : Dialect {
  let name = "tilegpu";
  let cppNamespace = "::tile::gpu";
  let summary = "Layouts and layout-aware ops used while lowering tile programs to GPUs";
  let useDefaultAttributePrinterParser = 1;
}

class Tilegpu_Attr<string name, string attrMnemonic> : AttrDef<Tilegpu_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Tilegpu_BlockedAttr : Tilegpu_Attr<"Blocked", "blocked"> {
  let summary = "each thread owns sizePerThread contiguous elements; threads, then warps tile the rest";
  let description = [{
    Per dimension d: a thread holds a sizePerThread[d] block, threadsPerWarp[d] lanes and
    warpsPerCTA[d] warps cover the next levels; the pattern repeats over the tensor (more
    registers) or wraps (replication) when the tensor is smaller. `order` lists dimensions from
    fastest to slowest (order[0] is the contiguous one). Products of threadsPerWarp = 32 and of
    warpsPerCTA = num_warps.
  }];
  let parameters = (ins ArrayRefParameter<"unsigned">:$sizePerThread,
                        ArrayRefParameter<"unsigned">:$threadsPerWarp,
                        ArrayRefParameter<"unsigned">:$warpsPerCTA,
                        ArrayRefParameter<"unsigned">:$order);
  let assemblyFormat = [{
    `<` `sizePerThread` `=` `[` $sizePerThread `]` `,` `threadsPerWarp` `=` `[` $threadsPerWarp `]` `,`
    `warpsPerCTA` `=` `[` $warpsPerCTA `]` `,` `order` `=` `[` $order `]` `>`
  }];
}

def Tilegpu_MmaAttr : Tilegpu_Attr<"Mma", "mma"> {
  let summary = "accumulator layout of mma.sync m16n8k16 (f32), warps tiling M then N";
  let description = [{
    Within a 16x8 tile lane l holds (l/4, 2*(l%4)+{0,1}) and (l/4+8, 2*(l%4)+{0,1}).
    Warps: warpsPerCTA = [wm, wn] 16x8 tiles side by side (low warp-id bits along M); the
    pattern repeats over the tensor. With `columnBlocks`, the wn warps along N own contiguous
    blocks of N/wn columns instead (each warp repeats its 16x8 tile along N first): a warpgroup
    of 4 warps along M then holds one m64nK wgmma accumulator of N/wn contiguous columns, so
    warpgroups can split N (a 64-row dot over 8 warps).
  }];
  let parameters = (ins ArrayRefParameter<"unsigned">:$warpsPerCTA,
                        DefaultValuedParameter<"bool", "false">:$columnBlocks);
  let assemblyFormat = "`<` `warpsPerCTA` `=` `[` $warpsPerCTA `]` (`,` `columnBlocks` `=` $columnBlocks^)? `>`";
}

def Tilegpu_DotOperandAttr : Tilegpu_Attr<"DotOperand", "dot_op"> {
  let summary = "mma.sync A (opIdx 0, MxK) or B (opIdx 1, KxN) fragments for a parent mma layout";
  let parameters = (ins "unsigned":$opIdx, "::mlir::Attribute":$parent);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Tilegpu_SliceAttr : Tilegpu_Attr<"Slice", "slice"> {
  let summary = "the parent layout with dimension `dim` removed (results of reductions)";
  let parameters = (ins "unsigned":$dim, "::mlir::Attribute":$parent);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Tilegpu_TransposedAttr : Tilegpu_Attr<"Transposed", "transposed"> {
  let summary = "the parent layout of a 2-D tile with its two dimensions swapped (results of trans)";
  let description = [{
    Element (i, j) of a tile in this layout sits where element (j, i) of a tile in the parent
    layout sits: tile.trans of any tile is free, and the data moves only when a user needs
    another layout (e.g. an mma operand, read back with ldmatrix .trans).
  }];
  let parameters = (ins "::mlir::Attribute":$parent);
  let assemblyFormat = "`<` struct(params) `>`";
}

class Tilegpu_Op<string mnemonic, list<Trait> traits = []> : Op<Tilegpu_Dialect, mnemonic, traits>;

def Tilegpu_ConvertLayoutOp : Tilegpu_Op<"convert_layout", [Pure]> {
  let summary = "the same tile in another layout (moves data between threads)";
  let arguments = (ins AnyRankedTensor:$src);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tilegpu_ReduceOp : Tilegpu_Op<"reduce", [Pure]> {
  let summary = "tile.reduce on laid-out tiles: the result carries the slice layout of the source";
  let description = [{
    Same semantics as tile.reduce (kind max, min or sum along `axis`, the axis dropped; a 1-D
    source gives a scalar); only the result type differs: it has an encoding.
  }];
  let arguments = (ins AnyRankedTensor:$src, I32Attr:$axis, StrAttr:$kind);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$kind $src `,` $axis attr-dict `:` type($src) `->` type($result)";
}

#endif  // TILEGPU_OPS_TD
