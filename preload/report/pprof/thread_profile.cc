#include "preload/report/pprof/thread_profile.h"

#include <zlib.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "preload/report/pprof/profile.pb-c.h"

namespace threadleak::pprof {
namespace {

// The profile's tables, built up thread by thread. protobuf-c messages hold raw pointers, so
// every message and array is owned by the builder (`store_`) and outlives the packing.
class ProfileBuilder {
 public:
  ProfileBuilder() { Intern(""); }  // string_table[0] must be ""

  int64_t Intern(const std::string& text) {
    auto [it, inserted] = string_ids_.emplace(text, static_cast<int64_t>(strings_.size()));
    if (inserted) strings_.push_back(text);
    return it->second;
  }

  void AddThread(const ProfileThread& thread) {
    auto& sample = Make<Perftools__Profiles__Sample>(perftools__profiles__sample__init);
    auto& location_ids = Array<uint64_t>();
    // A location is one address: the frames inlined into it, innermost first, then the frame
    // that holds the code (pprof's Location.line order).
    for (size_t first = 0; first < thread.stack.size();) {
      size_t last = first;
      while (last + 1 < thread.stack.size() && thread.stack[last].inlined) ++last;
      location_ids.push_back(LocationId(thread.stack, first, last));
      first = last + 1;
    }
    sample.n_location_id = location_ids.size();
    sample.location_id = location_ids.data();
    auto& values = Array<int64_t>();
    values.push_back(1);  // one thread
    sample.n_value = 1;
    sample.value = values.data();
    auto& labels = Array<Perftools__Profiles__Label*>();
    for (const ProfileLabel& label : thread.labels) {
      auto& message = Make<Perftools__Profiles__Label>(perftools__profiles__label__init);
      message.key = Intern(label.key);
      if (label.numeric) {
        message.num = label.number;
        if (!label.unit.empty()) message.num_unit = Intern(label.unit);
      } else {
        message.str = Intern(label.text);
      }
      labels.push_back(&message);
    }
    sample.n_label = labels.size();
    sample.label = labels.data();
    samples_.push_back(&sample);
  }

  void AddMapping(const ProfileFrame& frame) { MappingId(frame); }

  std::string Pack(const ProfileHeader& header) {
    Perftools__Profiles__Profile profile;
    perftools__profiles__profile__init(&profile);
    auto& sample_type = Make<Perftools__Profiles__ValueType>(perftools__profiles__value_type__init);
    sample_type.type = Intern("threads");
    sample_type.unit = Intern("count");
    Perftools__Profiles__ValueType* sample_types[] = {&sample_type};
    profile.n_sample_type = 1;
    profile.sample_type = sample_types;
    auto& period_type = Make<Perftools__Profiles__ValueType>(perftools__profiles__value_type__init);
    period_type.type = sample_type.type;
    period_type.unit = sample_type.unit;
    profile.period_type = &period_type;
    profile.period = 1;
    profile.time_nanos = header.time_nanos;
    auto& comments = Array<int64_t>();
    for (const std::string& comment : header.comments) comments.push_back(Intern(comment));
    profile.n_comment = comments.size();
    profile.comment = comments.data();

    profile.n_sample = samples_.size();
    profile.sample = samples_.data();
    profile.n_mapping = mappings_.size();
    profile.mapping = mappings_.data();
    profile.n_location = locations_.size();
    profile.location = locations_.data();
    profile.n_function = functions_.size();
    profile.function = functions_.data();
    // Interned last: every string is in the table by now.
    std::vector<char*> table;
    table.reserve(strings_.size());
    for (std::string& text : strings_) table.push_back(text.data());
    profile.n_string_table = table.size();
    profile.string_table = table.data();

    std::string packed(perftools__profiles__profile__get_packed_size(&profile), '\0');
    perftools__profiles__profile__pack(&profile, reinterpret_cast<uint8_t*>(packed.data()));
    return packed;
  }

 private:
  // A message of type M initialized by `init`, alive as long as the builder.
  template <typename M>
  M& Make(void (*init)(M*)) {
    auto owned = std::make_shared<M>();
    init(owned.get());
    store_.push_back(owned);
    return *owned;
  }
  template <typename T>
  std::vector<T>& Array() {
    auto owned = std::make_shared<std::vector<T>>();
    store_.push_back(owned);
    return *owned;
  }

  static std::string FunctionName(const ProfileFrame& frame) {
    return frame.function.empty() ? "??" : frame.function;
  }

  uint64_t FunctionId(const ProfileFrame& frame) {
    auto key = std::make_pair(FunctionName(frame), frame.file);
    auto it = function_ids_.find(key);
    if (it != function_ids_.end()) return it->second;
    auto& function = Make<Perftools__Profiles__Function>(perftools__profiles__function__init);
    function.id = functions_.size() + 1;
    function.name = Intern(key.first);
    function.system_name = function.name;
    function.filename = Intern(frame.file);
    functions_.push_back(&function);
    function_ids_.emplace(std::move(key), function.id);
    return function.id;
  }

  uint64_t MappingId(const ProfileFrame& frame) {
    if (frame.module.empty() || frame.module == "??") return 0;
    auto key = std::make_pair(frame.module, frame.build_id);
    auto it = mapping_ids_.find(key);
    Perftools__Profiles__Mapping* mapping;
    if (it != mapping_ids_.end()) {
      mapping = mappings_[it->second - 1];
    } else {
      mapping = &Make<Perftools__Profiles__Mapping>(perftools__profiles__mapping__init);
      mapping->id = mappings_.size() + 1;
      mapping->filename = Intern(frame.module);
      if (!frame.build_id.empty()) mapping->build_id = Intern(frame.build_id);
      mappings_.push_back(mapping);
      mapping_ids_.emplace(std::move(key), mapping->id);
    }
    // Addresses are module offsets: the mapping spans the offsets seen. What it says of symbols
    // keeps pprof from looking for the binaries again: the profile is already symbolized.
    mapping->memory_limit = std::max<uint64_t>(mapping->memory_limit, frame.module_offset + 1);
    bool named = !frame.function.empty() && frame.function != "??";
    mapping->has_functions |= named;
    mapping->has_filenames |= !frame.file.empty();
    mapping->has_line_numbers |= frame.line > 0;
    return mapping->id;
  }

  uint64_t LocationId(const std::vector<ProfileFrame>& stack, size_t first, size_t last) {
    const ProfileFrame& holder = stack[last];
    uint64_t mapping = MappingId(holder);
    // The same module offset is the same code, whichever process it came from; without one the
    // location is known by its names alone.
    std::string key = std::to_string(mapping) + ":" + std::to_string(holder.module_offset);
    if (holder.module_offset == 0) {
      for (size_t i = first; i <= last; ++i) {
        key += "|" + FunctionName(stack[i]) + "@" + stack[i].file + ":" +
               std::to_string(stack[i].line);
      }
    }
    auto it = location_ids_.find(key);
    if (it != location_ids_.end()) return it->second;
    auto& location = Make<Perftools__Profiles__Location>(perftools__profiles__location__init);
    location.id = locations_.size() + 1;
    location.mapping_id = mapping;
    location.address = holder.module_offset;
    auto& lines = Array<Perftools__Profiles__Line*>();
    for (size_t i = first; i <= last; ++i) {
      auto& line = Make<Perftools__Profiles__Line>(perftools__profiles__line__init);
      line.function_id = FunctionId(stack[i]);
      line.line = stack[i].line;
      lines.push_back(&line);
    }
    if (mapping != 0 && last > first) mappings_[mapping - 1]->has_inline_frames = true;
    location.n_line = lines.size();
    location.line = lines.data();
    locations_.push_back(&location);
    location_ids_.emplace(std::move(key), location.id);
    return location.id;
  }

  std::vector<std::string> strings_;
  std::map<std::string, int64_t> string_ids_;
  std::vector<std::shared_ptr<void>> store_;
  std::vector<Perftools__Profiles__Sample*> samples_;
  std::vector<Perftools__Profiles__Mapping*> mappings_;
  std::map<std::pair<std::string, std::string>, uint64_t> mapping_ids_;
  std::vector<Perftools__Profiles__Location*> locations_;
  std::map<std::string, uint64_t> location_ids_;
  std::vector<Perftools__Profiles__Function*> functions_;
  std::map<std::pair<std::string, std::string>, uint64_t> function_ids_;
};

// gzip, as pprof reads profiles from disk (it also takes them raw, but every tool expects gzip).
std::string Gzip(const std::string& data) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int status = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  out.resize(stream.total_out);
  return out;
}

const ProfileFrame* FindMain(const std::vector<ProfileThread>& threads) {
  for (const ProfileThread& thread : threads) {
    for (const ProfileFrame& frame : thread.stack) {
      if (frame.function == "main") return &frame;
    }
  }
  return nullptr;
}

}  // namespace

std::string EncodeThreadProfile(const std::vector<ProfileThread>& threads,
                                const ProfileHeader& header) {
  ProfileBuilder builder;
  // pprof takes the first mapping for the program ("File:" in its header): the module that
  // holds main, when a stack shows it.
  if (!header.program_module.empty()) {
    ProfileFrame program;
    program.module = header.program_module;
    program.build_id = header.program_build_id;
    builder.AddMapping(program);
  } else if (const ProfileFrame* main_frame = FindMain(threads); main_frame != nullptr) {
    builder.AddMapping(*main_frame);
  }
  for (const ProfileThread& thread : threads) builder.AddThread(thread);
  return Gzip(builder.Pack(header));
}

}  // namespace threadleak::pprof
