// Structured control flow with SSA values: loops carry their state explicitly (scf.for
// iter_args), branches yield their results (scf.if).
//
//   // No carried state:
//   for_range(0, n_blocks, 1, [&](Int i) { store(...); });
//   // Carried state: a tuple built with carry(...), the body gets one parameter per value and
//   // returns carry(...) of the same types; `stages` marks the loop for software pipelining.
//   auto [acc, m] = for_range(lo, hi, BLOCK_N, carry(acc0, m0),
//       [&](Int start, Tile acc, Tile m) { ...; return carry(acc2, m2); }, /*stages=*/2);
//   // A single carried value needs no tuple:
//   Tile acc = for_range(0, k_tiles, 1, acc0, [&](Int k, Tile acc) { return dot(a, b, acc); });
//   // Branches:
//   if_(pid == 0, [&] { store(...); });
//   Tile x = if_(causal_flag, [&] { return masked; }, [&] { return plain; });
//
// Carriable types: Tile, Scalar (Int/Float/Bool), BlockPtr (its offsets are carried, so
// `.advance()` inside the loop is the Triton idiom), and tuples of those.
#pragma once

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dsl/errors.h"
#include "dsl/memory.h"
#include "dsl/values.h"

namespace tile {

template <class... Ts>
std::tuple<Ts...> carry(const Ts&... values) {
  return std::tuple<Ts...>(values...);
}

namespace detail {

using Values = std::vector<Value>;
using LoopBody = std::function<Values(const Int& iv, const Values& carried)>;
using Branch = std::function<Values()>;

// Builds scf.for over [lo, hi) by `step` (i32) carrying `init`; stages > 0 sets tile.stages.
Values build_for(const Int& lo, const Int& hi, const Int& step, const Values& init,
                 const LoopBody& body, int stages);
// Builds scf.if; with no results `otherwise` may be empty.
Values build_if(const Bool& cond, const Branch& then, const Branch& otherwise, bool has_else);
// Materialises a literal scalar (as i32 or f32) so it can be carried.
Value materialize(const Scalar& s);
[[noreturn]] void fail_carried_block_ptr();

template <class T, class = void>
struct Carried;  // how a carriable type maps to flat SSA values

template <>
struct Carried<Tile> {
  static void flatten(const Tile& t, Values& out) { out.push_back(t); }
  static Tile rebuild(const Tile&, const Value*& it) { return Tile(*it++); }
};
template <>
struct Carried<Scalar> {
  static void flatten(const Scalar& s, Values& out) { out.push_back(materialize(s)); }
  static Scalar rebuild(const Scalar&, const Value*& it) { return Scalar(*it++); }
};
template <>
struct Carried<BlockPtr> {
  static void flatten(const BlockPtr& b, Values& out) {
    for (const Int& o : b.offsets) out.push_back(materialize(o));
  }
  static BlockPtr rebuild(const BlockPtr& like, const Value*& it) {
    BlockPtr b = like;
    for (Int& o : b.offsets) o = Scalar(*it++);
    return b;
  }
};
template <class... Ts>
struct Carried<std::tuple<Ts...>> {
  static void flatten(const std::tuple<Ts...>& t, Values& out) {
    std::apply([&](const Ts&... v) { (Carried<Ts>::flatten(v, out), ...); }, t);
  }
  static std::tuple<Ts...> rebuild(const std::tuple<Ts...>& like, const Value*& it) {
    return rebuild_each(like, it, std::index_sequence_for<Ts...>{});
  }
  template <size_t... I>
  static std::tuple<Ts...> rebuild_each(const std::tuple<Ts...>& like, const Value*& it,
                                        std::index_sequence<I...>) {
    // Braced init guarantees left-to-right evaluation, i.e. the flatten order.
    return std::tuple<Ts...>{Carried<Ts>::rebuild(std::get<I>(like), it)...};
  }
};

template <class T, class = void>
struct is_carriable : std::false_type {};
template <class T>
struct is_carriable<T, std::void_t<decltype(Carried<T>::flatten)>> : std::true_type {};

template <class T>
Values flatten(const T& v) {
  Values out;
  Carried<T>::flatten(v, out);
  return out;
}
template <class T>
T rebuild(const T& like, const Values& flat) {
  const Value* it = flat.data();
  return Carried<T>::rebuild(like, it);
}

// BlockPtr carries only offsets: the loop body must not swap the tensor it points into.
inline bool same_tensor(const BlockPtr& a, const BlockPtr& b) {
  auto same = [](const Ints& x, const Ints& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].impl() != y[i].impl() || x[i].is_literal() != y[i].is_literal() ||
          x[i].literal() != y[i].literal())
        return false;
    return true;
  };
  return a.base.impl() == b.base.impl() && same(a.shape, b.shape) && same(a.strides, b.strides) &&
         a.block == b.block;
}
template <class T>
void check_same_tensors(const T&, const T&) {}
inline void check_same_tensors(const BlockPtr& a, const BlockPtr& b) {
  if (!same_tensor(a, b)) fail_carried_block_ptr();
}
template <class... Ts>
void check_same_tensors(const std::tuple<Ts...>& a, const std::tuple<Ts...>& b) {
  std::apply([&](const Ts&... x) {
    std::apply([&](const Ts&... y) { (check_same_tensors(x, y), ...); }, b);
  }, a);
}

template <class Body, class T>
decltype(auto) call_with(Body& body, const Int& iv, const T& v) {
  if constexpr (is_carriable<T>::value && !std::is_same_v<T, Tile> &&
                !std::is_same_v<T, Scalar> && !std::is_same_v<T, BlockPtr>)
    return std::apply([&](const auto&... xs) { return body(iv, xs...); }, v);
  else
    return body(iv, v);
}

}  // namespace detail

// Loop without carried values.
template <class Body, class = std::enable_if_t<std::is_invocable_v<Body&, const Int&>>>
void for_range(const Int& lo, const Int& hi, const Int& step, Body&& body, int stages = 0) {
  detail::build_for(lo, hi, step, {}, [&](const Int& iv, const detail::Values&) {
    body(iv);
    return detail::Values{};
  }, stages);
}

// Loop carrying `init` (a Tile, Scalar, BlockPtr or carry(...) tuple); returns the final values.
template <class Init, class Body,
          class = std::enable_if_t<detail::is_carriable<Init>::value>>
Init for_range(const Int& lo, const Int& hi, const Int& step, const Init& init, Body&& body,
               int stages = 0) {
  detail::Values flat = detail::build_for(
      lo, hi, step, detail::flatten(init),
      [&](const Int& iv, const detail::Values& carried) {
        Init in = detail::rebuild(init, carried);
        Init out = detail::call_with(body, iv, in);
        detail::check_same_tensors(init, out);
        return detail::flatten(out);
      },
      stages);
  return detail::rebuild(init, flat);
}

// Branch without results.
template <class Then, class = std::enable_if_t<std::is_void_v<std::invoke_result_t<Then&>>>>
void if_(const Bool& cond, Then&& then) {
  detail::build_if(cond, [&] { then(); return detail::Values{}; }, {}, false);
}

// Branch with both arms; when they return values (same types) these are the results.
template <class Then, class Else>
auto if_(const Bool& cond, Then&& then, Else&& otherwise) {
  using R = std::invoke_result_t<Then&>;
  if constexpr (std::is_void_v<R>) {
    detail::build_if(cond, [&] { then(); return detail::Values{}; },
                     [&] { otherwise(); return detail::Values{}; }, true);
  } else {
    static_assert(detail::is_carriable<R>::value, "if_: branches must return Tile, Scalar or carry(...)");
    R like{};
    detail::Values flat = detail::build_if(
        cond, [&] { R r = then(); like = r; return detail::flatten(r); },
        [&] { R r = otherwise(); return detail::flatten(r); }, true);
    return detail::rebuild(like, flat);
  }
}

}  // namespace tile
