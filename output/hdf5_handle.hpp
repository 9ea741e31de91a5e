// Internal to output/: owned HDF5 identifiers and the HDF5 error stack, shared by the run
// writer (hdf5_writer.cpp) and the sweep index (merge.cpp).
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

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

}  // namespace bankrun::hdf5
