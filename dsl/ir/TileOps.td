// The `tile` dialect: Triton-style programs over tiles.
//
// Tiles are builtin ranked tensors (`tensor<128x64xbf16>`): immutable SSA values with a static
// shape. Elementwise math on tiles uses upstream `arith` and `math` ops (they accept tensors),
// loops and branches use `scf.for` / `scf.if` (a loop marked with the `tile.stages` attribute is
// software-pipelined by the lowering). This dialect adds what upstream has no op for: program
// ids, global pointers, block and gather memory access, broadcasting, `dot` and reductions.
// The semantics written here are the contract the interpreter (dsl/interp) and the lowering
// (lowering/) both implement.

#ifndef TILE_OPS_TD
#define TILE_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::tile::ir";
  let summary = "Tile programs for GPU kernels (FlashAttention and friends)";
  let useDefaultTypePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect"];
}

class Tile_Type<string name, string typeMnemonic> : TypeDef<Tile_Dialect, name> {
  let mnemonic = typeMnemonic;
}

// A pointer into global memory holding elements of `pointee` (f16, bf16, f32, i32).
def Tile_PtrType : Tile_Type<"Ptr", "ptr"> {
  let summary = "global memory pointer";
  let parameters = (ins "::mlir::Type":$pointee);
  let assemblyFormat = "`<` $pointee `>`";
}

def Tile_Ptr : Type<CPred<"::llvm::isa<::tile::ir::PtrType>($_self)">, "tile pointer">;
def Tile_Int : AnyTypeOf<[I32, I64]>;
def Tile_Tensor : RankedTensorOf<[AnyType]>;
def Tile_IntTensor : RankedTensorOf<[I32]>;
def Tile_MaskTensor : RankedTensorOf<[I1]>;

class Tile_Op<string mnemonic, list<Trait> traits = []> : Op<Tile_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Program grid
//===----------------------------------------------------------------------===//

def Tile_ProgramIdOp : Tile_Op<"program_id", [Pure]> {
  let summary = "index of this program instance along a grid axis (0, 1 or 2)";
  let arguments = (ins ConfinedAttr<I32Attr, [IntMinValue<0>, IntMaxValue<2>]>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict `:` type($result)";
}

def Tile_NumProgramsOp : Tile_Op<"num_programs", [Pure]> {
  let summary = "number of program instances along a grid axis (0, 1 or 2)";
  let arguments = (ins ConfinedAttr<I32Attr, [IntMinValue<0>, IntMaxValue<2>]>:$axis);
  let results = (outs I32:$result);
  let assemblyFormat = "$axis attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Tile creation and shape ops
//===----------------------------------------------------------------------===//

def Tile_SplatOp : Tile_Op<"splat", [Pure]> {
  let summary = "a tile whose every element is the scalar operand";
  let arguments = (ins AnyType:$value);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($value) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_ArangeOp : Tile_Op<"arange", [Pure]> {
  let summary = "the 1-D i32 tile [start, start+1, ..., end-1]";
  let arguments = (ins I32Attr:$start, I32Attr:$end);
  let results = (outs Tile_IntTensor:$result);
  let assemblyFormat = "$start `to` $end attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_ExpandDimsOp : Tile_Op<"expand_dims", [Pure]> {
  let summary = "inserts a dimension of size 1 at `axis`";
  let arguments = (ins Tile_Tensor:$src, I32Attr:$axis);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src `,` $axis attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_BroadcastOp : Tile_Op<"broadcast", [Pure]> {
  let summary = "repeats dimensions of size 1 to the result shape (same rank)";
  let arguments = (ins Tile_Tensor:$src);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_TransOp : Tile_Op<"trans", [Pure]> {
  let summary = "transposes a 2-D tile";
  let arguments = (ins Tile_Tensor:$src);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_DotOp : Tile_Op<"dot", [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "matrix product on tensor cores: result = a @ b + acc";
  let description = [{
    `a` is MxK and `b` is KxN, both f16 or both bf16 (or both f32); `acc` and the result are
    MxN f32. Products are exact and summed in f32 (the order of the sum is unspecified).
  }];
  let arguments = (ins Tile_Tensor:$a, Tile_Tensor:$b, Tile_Tensor:$acc);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = "$a `,` $b `,` $acc attr-dict `:` type($a) `,` type($b) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_ReduceOp : Tile_Op<"reduce", [Pure]> {
  let summary = "reduces a tile along `axis` with `kind` (max, min or sum); the axis is dropped";
  let description = [{
    Float `max`/`min` propagate NaN like `arith.maximumf`. The sum is computed in the element
    type (callers reduce f32 tiles); its order is unspecified.
  }];
  let arguments = (ins Tile_Tensor:$src, I32Attr:$axis, StrAttr:$kind);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$kind $src `,` $axis attr-dict `:` type($src) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Global memory
//===----------------------------------------------------------------------===//

def Tile_AddPtrOp : Tile_Op<"addptr", [Pure, AllTypesMatch<["ptr", "result"]>]> {
  let summary = "pointer advanced by `offset` elements (i32 or i64, may be negative)";
  let arguments = (ins Tile_Ptr:$ptr, Tile_Int:$offset);
  let results = (outs Tile_Ptr:$result);
  let assemblyFormat = "$ptr `,` $offset attr-dict `:` type($ptr) `,` type($offset)";
  let hasVerifier = 1;
}

def Tile_LoadScalarOp : Tile_Op<"load_scalar", [MemoryEffects<[MemRead]>]> {
  let summary = "reads one element ptr[index]";
  let arguments = (ins Tile_Ptr:$ptr, Tile_Int:$index);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$ptr `[` $index `]` attr-dict `:` type($ptr) `,` type($index) `->` type($result)";
  let hasVerifier = 1;
}

def Tile_LoadBlockOp : Tile_Op<"load_block", [MemoryEffects<[MemRead]>, AttrSizedOperandSegments]> {
  let summary = "loads a block of a strided tensor; elements outside `shape` read `padding`";
  let description = [{
    The tensor starts at `ptr` and has `shape` and `strides` (in elements), one i32 per
    dimension of the result. Result element (i, j, ...) is read from
    tensor[offsets + (i, j, ...)] when every coordinate lies in [0, shape), else it is `padding`.
    Addresses are computed in 64 bits.
  }];
  let arguments = (ins Tile_Ptr:$ptr, Variadic<I32>:$shape, Variadic<I32>:$strides,
                   Variadic<I32>:$offsets, F64Attr:$padding);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = [{
    $ptr `shape` `[` $shape `]` `strides` `[` $strides `]` `offsets` `[` $offsets `]`
    `padding` $padding attr-dict `:` type($ptr) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_StoreBlockOp : Tile_Op<"store_block", [MemoryEffects<[MemWrite]>, AttrSizedOperandSegments]> {
  let summary = "stores a tile into a block of a strided tensor; elements outside `shape` are skipped";
  let arguments = (ins Tile_Ptr:$ptr, Variadic<I32>:$shape, Variadic<I32>:$strides,
                   Variadic<I32>:$offsets, Tile_Tensor:$value);
  let assemblyFormat = [{
    $value `,` $ptr `shape` `[` $shape `]` `strides` `[` $strides `]` `offsets` `[` $offsets `]`
    attr-dict `:` type($value) `,` type($ptr)
  }];
  let hasVerifier = 1;
}

def Tile_AtomicAddBlockOp : Tile_Op<"atomic_add_block", [MemoryEffects<[MemRead, MemWrite]>, AttrSizedOperandSegments]> {
  let summary = "atomically adds a tile (f32) into a block of a strided tensor; elements outside `shape` are skipped";
  let description = [{
    store_block's addressing with an atomic add per element: accumulating partial results of
    several programs into one buffer (the backward's dQ). Addresses come from the block's
    coordinates, as for store_block, so the lowering can vectorise (red.global.add.v2/v4.f32)
    without an offsets tile held in registers, or, where each warp holds whole row segments
    and the rows are 16-byte aligned, stage the tile in shared memory and add it by bulk
    reduce-add (cp.reduce.async.bulk ... add.f32), one per row segment.
  }];
  let arguments = (ins Tile_Ptr:$ptr, Variadic<I32>:$shape, Variadic<I32>:$strides,
                   Variadic<I32>:$offsets, Tile_Tensor:$value);
  let assemblyFormat = [{
    $value `,` $ptr `shape` `[` $shape `]` `strides` `[` $strides `]` `offsets` `[` $offsets `]`
    attr-dict `:` type($value) `,` type($ptr)
  }];
  let hasVerifier = 1;
}

def Tile_LoadOp : Tile_Op<"load", [MemoryEffects<[MemRead]>, AttrSizedOperandSegments]> {
  let summary = "gathers ptr[offsets]; where `mask` is false the element is `other` (default 0)";
  let arguments = (ins Tile_Ptr:$ptr, Tile_IntTensor:$offsets, Optional<Tile_MaskTensor>:$mask,
                   Optional<AnyType>:$other);
  let results = (outs Tile_Tensor:$result);
  let assemblyFormat = [{
    $ptr `[` $offsets `]` (`mask` $mask^)? (`other` $other^)? attr-dict `:` type($ptr) `,`
    type($offsets) (`,` type($mask)^)? (`,` type($other)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_StoreOp : Tile_Op<"store", [MemoryEffects<[MemWrite]>]> {
  let summary = "scatters `value` to ptr[offsets] where `mask` is true (everywhere without a mask)";
  let arguments = (ins Tile_Ptr:$ptr, Tile_IntTensor:$offsets, Tile_Tensor:$value,
                   Optional<Tile_MaskTensor>:$mask);
  let assemblyFormat = [{
    $value `,` $ptr `[` $offsets `]` (`mask` $mask^)? attr-dict `:` type($value) `,` type($ptr)
    `,` type($offsets) (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Tile_AtomicAddOp : Tile_Op<"atomic_add", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "atomically adds `value` to ptr[offsets] where `mask` is true (f32 only)";
  let arguments = (ins Tile_Ptr:$ptr, Tile_IntTensor:$offsets, Tile_Tensor:$value,
                   Optional<Tile_MaskTensor>:$mask);
  let assemblyFormat = [{
    $value `,` $ptr `[` $offsets `]` (`mask` $mask^)? attr-dict `:` type($value) `,` type($ptr)
    `,` type($offsets) (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

#endif  // TILE_OPS_TD
