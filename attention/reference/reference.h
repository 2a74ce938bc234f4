// Everything a caller of the CPU attention references needs: the fp64 reference, the naive
// same-dtype reference and the accuracy rule.
#pragma once

#include "attention/reference/accuracy.h"
#include "attention/reference/attention_types.h"
#include "attention/reference/naive_same_dtype.h"
#include "attention/reference/reference_fp64.h"
