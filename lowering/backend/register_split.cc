#include "lowering/backend/register_split.h"

#include <algorithm>

namespace tile::backend {
namespace {

constexpr int kRegisterFile = 64 * 1024;  // 32-bit registers of one multiprocessor
constexpr int kMaxAddressable = 255;
constexpr const char* kDec = "setmaxnreg.dec.sync.aligned.u32 ";
constexpr const char* kInc = "setmaxnreg.inc.sync.aligned.u32 ";

// Where `needle` occurs in [begin, end) of `text`.
std::vector<size_t> occurrences(const std::string& text, const std::string& needle, size_t begin,
                                size_t end) {
  std::vector<size_t> at;
  for (size_t p = text.find(needle, begin); p != std::string::npos && p < end;
       p = text.find(needle, p + needle.size()))
    at.push_back(p);
  return at;
}

}  // namespace

int launch_registers(int threads) {
  if (threads <= 0) return 0;
  return std::min(kMaxAddressable, kRegisterFile / threads / 8 * 8);
}

int consumer_registers(int producer, int producer_threads, int consumer_threads) {
  if (consumer_threads <= 0) return 0;
  const int block = launch_registers(producer_threads + consumer_threads) * (producer_threads + consumer_threads);
  return std::min(kMaxConsumerRegisters, (block - producer * producer_threads) / consumer_threads / 8 * 8);
}

RegisterSplit default_register_split(int producer_threads, int consumer_threads) {
  return register_split_candidates(producer_threads, consumer_threads, 1).front();
}

std::vector<RegisterSplit> register_split_candidates(int producer_threads, int consumer_threads,
                                                     int levels) {
  std::vector<RegisterSplit> out;
  const int top = consumer_registers(kMinSplitRegisters, producer_threads, consumer_threads);
  const int launch = launch_registers(producer_threads + consumer_threads);
  for (int level = 0; level < std::max(levels, 1); ++level) {
    const int consumer = top - 8 * level;
    // Past the default, a split must still raise the consumers and lower the producer.
    if (level > 0 && consumer <= launch) break;
    // The largest producer count (a multiple of 8) that still leaves `consumer` to each consumer
    // (the floor where the consumers are not raised: they gain nothing from the producer).
    int producer = kMinSplitRegisters;
    while (consumer > launch && producer + 8 <= launch &&
           consumer_registers(producer + 8, producer_threads, consumer_threads) >= consumer)
      producer += 8;
    if (consumer_registers(producer, producer_threads, consumer_threads) < consumer) break;
    out.push_back({producer, consumer});
  }
  return out;
}

bool rewrite_register_split(std::string& ptx, const std::string& entry, RegisterSplit from,
                            RegisterSplit to) {
  const size_t head = ptx.find(".entry " + entry + "(");
  if (head == std::string::npos) return false;
  size_t end = std::min(ptx.find(".entry ", head + 1), ptx.find(".func ", head + 1));
  if (end == std::string::npos) end = ptx.size();
  const std::string dec = std::string(kDec) + std::to_string(from.producer) + ";";
  const std::string inc = std::string(kInc) + std::to_string(from.consumer) + ";";
  if (occurrences(ptx, kDec, head, end).size() != 1 || occurrences(ptx, kInc, head, end).size() != 1)
    return false;
  const std::vector<size_t> at_dec = occurrences(ptx, dec, head, end);
  const std::vector<size_t> at_inc = occurrences(ptx, inc, head, end);
  if (at_dec.size() != 1 || at_inc.size() != 1) return false;
  const std::string new_dec = std::string(kDec) + std::to_string(to.producer) + ";";
  const std::string new_inc = std::string(kInc) + std::to_string(to.consumer) + ";";
  // The later one first, so the earlier one's offset still holds.
  if (at_dec[0] > at_inc[0]) {
    ptx.replace(at_dec[0], dec.size(), new_dec);
    ptx.replace(at_inc[0], inc.size(), new_inc);
  } else {
    ptx.replace(at_inc[0], inc.size(), new_inc);
    ptx.replace(at_dec[0], dec.size(), new_dec);
  }
  return true;
}

}  // namespace tile::backend
