// MLIR-facing helpers for tools: the dialects a tile module needs, its text and a stable hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dsl/kernel.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace tile {

// Loads the tile dialect and the upstream dialects tile programs use into `ctx`.
void load_dialects(mlir::MLIRContext& ctx);

// The module's IR in the custom (pretty) form tile-opt parses back.
std::string ir_text(mlir::ModuleOp module);
// FNV-1a 64 of ir_text: identical IR gives identical hashes across runs and machines.
uint64_t ir_hash(mlir::ModuleOp module);
uint64_t fnv1a64(std::string_view text);
std::string hex64(uint64_t v);  // 16 lowercase hex digits

}  // namespace tile
