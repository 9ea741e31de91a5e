// Internal to output/: owned HDF5 identifiers, the HDF5 error stack turned into
// OutputError, string types and scalar attributes, shared by the run writer
// (hdf5_writer.cpp) and the sweep index (sweep/merge.cpp). Compound rows: hdf5_compound.hpp.
#pragma once

#include <hdf5.h>

#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "output/errors.hpp"

namespace bankrun::hdf5 {

using Closer = herr_t (*)(hid_t);

// An HDF5 identifier closed by `closer` when the handle goes (move-only).
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes the identifier; returns false if HDF5 reported an error.
  bool close() noexcept {
    if (!valid()) return true;
    const herr_t rc = closer_(std::exchange(id_, H5I_INVALID_HID));
    return rc >= 0;
  }
  void reset() noexcept { close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// The most specific message on the HDF5 error stack (the deepest entry), then clears it.
inline std::string error_detail() {
  std::string detail;
  auto deepest = [](unsigned, const H5E_error2_t* err, void* data) -> herr_t {
    // Walking downward: keep the last (deepest) description.
    if (err->desc && *err->desc) *static_cast<std::string*>(data) = err->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, deepest, &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail;
}

// Turns failed HDF5 calls into OutputError("<context>: <what> (<HDF5's reason>)"), where
// the context names the file ("HDF5 output run.h5.partial").
class Checker {
 public:
  explicit Checker(std::string context) : context_(std::move(context)) {}
  [[noreturn]] void fail(const std::string& what) const {
    std::string message = context_ + ": " + what;
    const std::string detail = error_detail();
    if (!detail.empty()) message += " (" + detail + ")";
    throw OutputError(message);
  }
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  void check_status(herr_t rc, const std::string& what) const {
    if (rc < 0) fail(what);
  }

 private:
  std::string context_;
};

// Fixed-length, NUL-terminated UTF-8 string type of `bytes` bytes (terminator included).
inline Handle string_type(std::size_t bytes, const Checker& c) {
  Handle t(c.check(H5Tcopy(H5T_C_S1), "cannot copy the string type"), H5Tclose);
  c.check_status(H5Tset_size(t.get(), bytes), "cannot set a string size");
  c.check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "cannot set the UTF-8 character set");
  c.check_status(H5Tset_strpad(t.get(), H5T_STR_NULLTERM), "cannot set string padding");
  return t;
}

// Writes (or replaces) the scalar attribute `name` of `obj`, of file type `file_t`, from
// `value` in memory type `mem_t`.
inline void write_attribute(hid_t obj, const char* name, hid_t file_t, hid_t mem_t,
                            const void* value, const Checker& c) {
  const std::string what = std::string("attribute ") + name;
  const htri_t exists = H5Aexists(obj, name);
  c.check_status(exists, "cannot look up " + what);
  if (exists > 0) {
    // Same type: overwrite in place (ticks_recorded at every flush); else replace.
    Handle old(c.check(H5Aopen(obj, name, H5P_DEFAULT), "cannot open " + what), H5Aclose);
    Handle old_t(c.check(H5Aget_type(old.get()), "cannot get the type of " + what), H5Tclose);
    const htri_t same = H5Tequal(old_t.get(), file_t);
    c.check_status(same, "cannot compare the type of " + what);
    if (same > 0) {
      c.check_status(H5Awrite(old.get(), mem_t, value), "cannot write " + what);
      if (!old.close()) c.fail("cannot close " + what);
      return;
    }
    if (!old.close()) c.fail("cannot close " + what);
    c.check_status(H5Adelete(obj, name), "cannot replace " + what);
  }
  Handle space(c.check(H5Screate(H5S_SCALAR), "cannot create a scalar dataspace"), H5Sclose);
  Handle attr(c.check(H5Acreate2(obj, name, file_t, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create " + what),
              H5Aclose);
  c.check_status(H5Awrite(attr.get(), mem_t, value), "cannot write " + what);
  if (!attr.close()) c.fail("cannot close " + what);
}

// A numeric scalar attribute: `value` (memory type `mem_type`) stored as `file_type`.
template <class T>
void write_number_attribute(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value,
                            const Checker& c) {
  write_attribute(obj, name, file_type, mem_type, &value, c);
}

// A string attribute: a fixed-length string of exactly value.size() + 1 bytes.
inline void write_string_attribute(hid_t obj, const char* name, const std::string& value,
                                   const Checker& c) {
  Handle t = string_type(value.size() + 1, c);
  write_attribute(obj, name, t.get(), t.get(), value.c_str(), c);
}

// A string attribute (fixed or variable length) of `obj`; nullopt if absent or unreadable.
inline std::optional<std::string> read_string_attribute(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  const H5T_cset_t cset = H5Tget_cset(type.get());
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), cset);
    char* value = nullptr;
    if (H5Aread(attr.get(), mem.get(), &value) < 0) return std::nullopt;
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  // One byte more than the file's: a NULLPAD or SPACEPAD string of the full size converts
  // into it with its terminator.
  const std::size_t size = H5Tget_size(type.get()) + 1;
  Handle mem = string_type(size, Checker(std::string("HDF5 attribute ") + name));
  H5Tset_cset(mem.get(), cset);
  std::string buffer(size, '\0');
  if (H5Aread(attr.get(), mem.get(), buffer.data()) < 0) return std::nullopt;
  buffer.resize(std::strlen(buffer.c_str()));
  return buffer;
}

template <class T>
std::optional<T> read_attribute(hid_t obj, const char* name, hid_t mem_type) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  T value{};
  if (!attr.valid() || H5Aread(attr.get(), mem_type, &value) < 0) return std::nullopt;
  return value;
}

}  // namespace bankrun::hdf5
