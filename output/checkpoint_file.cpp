// Checkpoint files: root attributes (CheckpointInfo) and a group /state holding one 1-D
// uint8 dataset per state item, in visit order (link creation order), with attributes
// element_size and count.
#include "output/checkpoint_file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include "output/hdf5_handle.hpp"

namespace bankrun {
namespace {

using hdf5::Checker;
using hdf5::Handle;

constexpr const char* kFormat = "bankrun-checkpoint";

// Makes the file's bytes durable before it is renamed into place (so that after a power
// loss the new name never points to a file whose data never reached the disk).
void sync_file(const std::string& path, const Checker& c) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) c.fail("cannot reopen to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) c.fail("cannot sync to disk");
}

class Writer : public Checker {
 public:
  explicit Writer(const std::string& path) : Checker("checkpoint " + path) {}

  void attr(hid_t obj, const char* name, const std::string& v) {
    hdf5::write_string_attribute(obj, name, v, *this);
  }
  void attr(hid_t obj, const char* name, std::int32_t v) {
    hdf5::write_attribute(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v, *this);
  }
  void attr(hid_t obj, const char* name, std::int64_t v) {
    hdf5::write_attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, *this);
  }
  void attr(hid_t obj, const char* name, std::uint64_t v) {
    hdf5::write_attribute(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, *this);
  }

  void info(hid_t root, const CheckpointInfo& i, const std::string& digest) {
    attr(root, "format", kFormat);
    attr(root, "state_format_version", static_cast<std::int32_t>(SimulationState::kFormatVersion));
    attr(root, "scenario_digest", digest);
    attr(root, "tick", i.tick);
    attr(root, "ticks_planned", i.ticks_planned);
    attr(root, "scenario_yaml", i.scenario_yaml);
    attr(root, "scenario_file", i.scenario_file);
    attr(root, "seed", i.seed);
    attr(root, "output", i.output);
    attr(root, "snapshot_rows", i.snapshot_rows);
    attr(root, "started_utc", i.started_utc);
    attr(root, "bankrun_version", i.bankrun_version);
    attr(root, "git_commit", i.git_commit);
    attr(root, "checkpoint_every", i.checkpoint_every);
    attr(root, "parent_file", i.parent_file);
    attr(root, "parent_tick", i.parent_tick);
  }

  void item(hid_t group, std::string_view name, std::size_t element_size, std::size_t count,
            const void* data) {
    const std::string what = "state item " + std::string(name);
    const hsize_t dims[1] = {element_size * count};
    Handle space(check(H5Screate_simple(1, dims, nullptr), "cannot create a dataspace"), H5Sclose);
    Handle ds(check(H5Dcreate2(group, std::string(name).c_str(), H5T_STD_U8LE, space.get(),
                               H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create " + what),
              H5Dclose);
    if (dims[0] > 0)
      check_status(H5Dwrite(ds.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                   "cannot write " + what);
    attr(ds.get(), "element_size", std::uint64_t{element_size});
    attr(ds.get(), "count", std::uint64_t{count});
    if (!ds.close()) fail("cannot close " + what);
  }
};

// A saving archive that writes each item straight into the file's /state group.
class FileSaveArchive : public StateArchive<FileSaveArchive> {
 public:
  static constexpr bool kLoading = false;
  FileSaveArchive(Writer& w, hid_t group) : w_(w), group_(group) {}
  void put(std::string_view name, std::size_t element_size, std::size_t count, const void* data) {
    w_.item(group_, name, element_size, count, data);
  }

 private:
  Writer& w_;
  hid_t group_;
};

// Creates the file at `path` with `info`, then save_items(FileSaveArchive&).
template <class SaveItems>
void write_file(const std::string& path, const CheckpointInfo& info, const std::string& digest,
                Writer& w, SaveItems& save_items) {
  Handle file(w.check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create the file"),
              H5Fclose);
  w.info(file.get(), info, digest);
  Handle gcpl(w.check(H5Pcreate(H5P_GROUP_CREATE), "cannot create group properties"), H5Pclose);
  w.check_status(
      H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
      "cannot track the creation order");
  Handle state(w.check(H5Gcreate2(file.get(), "state", H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                       "cannot create group state"),
               H5Gclose);
  FileSaveArchive archive(w, state.get());
  save_items(archive);
  if (!state.close()) w.fail("cannot close group state");
  if (!file.close()) w.fail("cannot close the file");
}

// Writes `path` atomically: aside as `<path>.new`, synced, then renamed into place.
template <class SaveItems>
void write_atomically(const std::string& path, const CheckpointInfo& info,
                      const std::string& digest, SaveItems&& save_items) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const std::string creating = path + ".new";
  Writer w(creating);
  try {
    write_file(creating, info, digest, w, save_items);
    sync_file(creating, w);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(creating, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(creating, path, ec);
  if (ec) w.fail("cannot rename to " + path + ": " + ec.message());
}

class Reader : public Checker {
 public:
  explicit Reader(const std::string& path) : Checker("checkpoint " + path) {}

  std::string text(hid_t obj, const char* name) const {
    auto v = hdf5::read_string_attribute(obj, name);
    if (!v) fail(std::string("missing attribute ") + name);
    return *v;
  }
  template <class T>
  T number(hid_t obj, const char* name, hid_t mem_type) const {
    auto v = hdf5::read_attribute<T>(obj, name, mem_type);
    if (!v) fail(std::string("missing attribute ") + name);
    return *v;
  }

  void info(hid_t root, Checkpoint& c) const {
    if (hdf5::read_string_attribute(root, "format") != std::string(kFormat))
      fail("not a bankrun checkpoint (no attribute format=\"bankrun-checkpoint\")");
    CheckpointInfo& i = c.info;
    c.state.format_version = static_cast<std::uint32_t>(
        number<std::int32_t>(root, "state_format_version", H5T_NATIVE_INT32));
    c.state.scenario_digest = text(root, "scenario_digest");
    i.tick = number<std::int32_t>(root, "tick", H5T_NATIVE_INT32);
    i.ticks_planned = number<std::int32_t>(root, "ticks_planned", H5T_NATIVE_INT32);
    i.scenario_yaml = text(root, "scenario_yaml");
    i.scenario_file = text(root, "scenario_file");
    i.seed = number<std::uint64_t>(root, "seed", H5T_NATIVE_UINT64);
    i.output = text(root, "output");
    i.snapshot_rows = number<std::int64_t>(root, "snapshot_rows", H5T_NATIVE_INT64);
    i.started_utc = text(root, "started_utc");
    i.bankrun_version = text(root, "bankrun_version");
    i.git_commit = text(root, "git_commit");
    i.checkpoint_every = text(root, "checkpoint_every");
    i.parent_file = text(root, "parent_file");
    i.parent_tick = number<std::int32_t>(root, "parent_tick", H5T_NATIVE_INT32);
  }

  // Opens state item `name`; checks what its attributes say against its size.
  Handle open_item(hid_t group, const char* name, StateItem& item) const {
    const std::string what = std::string("state item ") + name;
    Handle ds(check(H5Dopen2(group, name, H5P_DEFAULT), "cannot open " + what), H5Dclose);
    item.name = name;
    item.element_size = number<std::uint64_t>(ds.get(), "element_size", H5T_NATIVE_UINT64);
    item.count = number<std::uint64_t>(ds.get(), "count", H5T_NATIVE_UINT64);
    Handle space(check(H5Dget_space(ds.get()), "cannot get the dataspace of " + what), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail("cannot get the size of " + what);
    if (static_cast<std::size_t>(n) != item.element_size * item.count)
      throw CheckpointError(name, "truncated: " + std::to_string(n) + " bytes for " +
                                      std::to_string(item.count) + " elements of " +
                                      std::to_string(item.element_size) + " bytes");
    return ds;
  }
  void read_item(hid_t ds, const StateItem& item, void* data) const {
    if (item.element_size * item.count > 0)
      check_status(H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                   "cannot read state item " + item.name);
  }
};

// A checkpoint file opened for reading: its header, and the names of its state items in
// visit order.
class OpenCheckpoint {
 public:
  explicit OpenCheckpoint(const std::string& path) : reader_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) reader_.fail("no such file");
    if (H5Fis_hdf5(path.c_str()) <= 0) reader_.fail("not an HDF5 file");
    file_ = Handle(reader_.check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open"),
                   H5Fclose);
    reader_.info(file_.get(), header_);
    state_ = Handle(
        reader_.check(H5Gopen2(file_.get(), "state", H5P_DEFAULT), "cannot open group state"),
        H5Gclose);
    // Exceptions must not cross HDF5's C frames: the names first, the items later.
    const auto name_of = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
      static_cast<std::vector<std::string>*>(data)->emplace_back(name);
      return 0;
    };
    hsize_t index = 0;
    reader_.check_status(
        H5Literate(state_.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, name_of, &names_),
        "cannot list the state items");
  }
  const Reader& reader() const { return reader_; }
  const Checkpoint& header() const { return header_; }  // info and state header, no items
  hid_t state() const { return state_.get(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  Reader reader_;
  Handle file_, state_;
  Checkpoint header_;
  std::vector<std::string> names_;
};

// A loading archive that reads each item straight from the file into the run's memory.
class FileLoadArchive : public StateArchive<FileLoadArchive> {
 public:
  static constexpr bool kLoading = true;
  explicit FileLoadArchive(const OpenCheckpoint& file) : file_(file) {}
  std::size_t count(std::string_view name, std::size_t element_size) {
    const auto& names = file_.names();
    if (next_ >= names.size())
      throw CheckpointError(std::string(name), "missing (the checkpoint ends before it)");
    if (names[next_] != name)
      throw CheckpointError(std::string(name), "found '" + names[next_] + "' in its place");
    dataset_ = file_.reader().open_item(file_.state(), names[next_].c_str(), item_);
    if (item_.element_size != element_size)
      throw CheckpointError(std::string(name), "elements of " + std::to_string(item_.element_size) +
                                                   " bytes, expected " +
                                                   std::to_string(element_size));
    return item_.count;
  }
  void get(std::string_view, void* data) {
    file_.reader().read_item(dataset_.get(), item_, data);
    dataset_.close();
    ++next_;
  }
  void finish() const {
    if (next_ != file_.names().size())
      throw CheckpointError(file_.names()[next_], "not part of this simulation's state");
  }

 private:
  const OpenCheckpoint& file_;
  std::size_t next_ = 0;
  Handle dataset_;
  StateItem item_;  // the open item's name and sizes (its bytes stay in the file)
};

}  // namespace

std::string scenario_digest(std::string_view scenario_yaml) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  for (const char ch : scenario_yaml) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;  // FNV prime
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  write_atomically(path, checkpoint.info, checkpoint.state.scenario_digest,
                   [&](FileSaveArchive& archive) {
                     for (const StateItem& item : checkpoint.state.items)
                       archive.put(item.name, item.element_size, item.count, item.bytes.data());
                   });
}

void write_checkpoint(const std::string& path, const CheckpointInfo& info, const Run& run,
                      const std::string& scenario_digest) {
  write_atomically(path, info, scenario_digest,
                   [&](FileSaveArchive& archive) { run.save_into(archive); });
}

Checkpoint read_checkpoint(const std::string& path) {
  OpenCheckpoint open(path);
  Checkpoint c = open.header();
  for (const std::string& name : open.names()) {
    StateItem& item = c.state.items.emplace_back();
    const Handle ds = open.reader().open_item(open.state(), name.c_str(), item);
    item.bytes.resize(item.element_size * item.count);
    open.reader().read_item(ds.get(), item, item.bytes.data());
  }
  return c;
}

Checkpoint read_checkpoint_info(const std::string& path) {
  return OpenCheckpoint(path).header();
}

void restore_checkpoint(const std::string& path, Run& run, std::string_view scenario_digest) {
  OpenCheckpoint open(path);
  check_state_header(open.header().state, scenario_digest);
  FileLoadArchive archive(open);
  run.load_from(archive);
  archive.finish();
}

}  // namespace bankrun
