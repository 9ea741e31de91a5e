// Internal to output/: the one way to describe an HDF5 compound row type, used by every
// table of the run writer (classes, news, policies, exposures, asset specs, snapshots) and
// by the sweep index's `runs` table.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "output/hdf5_handle.hpp"

namespace bankrun::hdf5 {

// One member of a row: its name, where it sits in the row in memory, and its types.
struct Member {
  std::string name;
  std::size_t offset = 0, size = 0;
  hid_t mem_type = H5I_INVALID_HID;
  hid_t file_type = H5I_INVALID_HID;  // as stored by a dataset created from file_type()
};

// The members of a compound row, in order. Either a C++ struct (CompoundType(bytes) and
// member(name, offsetof(Row, field), type)) or a packed row that grows as members are
// appended (CompoundType(0) and append(...)), for rows whose members are known at run time.
class CompoundType {
 public:
  // `what` names the type in errors ("class row"); bytes: the row size (0: packed).
  CompoundType(const Checker& errors, std::string what, std::size_t bytes = 0)
      : errors_(&errors), what_(std::move(what)), size_(bytes) {}

  CompoundType& member(const std::string& name, std::size_t offset, hid_t mem_type,
                       hid_t file_type = H5I_INVALID_HID) {
    members_.push_back({name, offset, H5Tget_size(mem_type), mem_type,
                        file_type == H5I_INVALID_HID ? mem_type : file_type});
    return *this;
  }
  // A fixed-length UTF-8 string member of `bytes` bytes (NUL included).
  CompoundType& string_member(const std::string& name, std::size_t offset, std::size_t bytes) {
    strings_.push_back(string_type(bytes, *errors_));
    return member(name, offset, strings_.back().get());
  }
  // Packed rows: a member right after the last one.
  CompoundType& append(const std::string& name, hid_t file_type, hid_t mem_type) {
    const std::size_t offset = size_;
    size_ += H5Tget_size(mem_type);
    return member(name, offset, mem_type, file_type);
  }
  CompoundType& append_string(const std::string& name, std::size_t bytes) {
    strings_.push_back(string_type(bytes, *errors_));
    return append(name, strings_.back().get(), strings_.back().get());
  }

  std::size_t size() const { return size_; }
  const Member& operator[](std::size_t i) const { return members_[i]; }

  // The row type in memory (each member's mem_type at its offset).
  Handle memory_type() const { return build(/*file=*/false); }
  // The same members with their file types, at the same offsets.
  Handle file_type() const { return build(/*file=*/true); }

 private:
  Handle build(bool file) const {
    Handle t(errors_->check(H5Tcreate(H5T_COMPOUND, size_), "cannot create the " + what_ + " type"),
             H5Tclose);
    for (const Member& m : members_)
      errors_->check_status(
          H5Tinsert(t.get(), m.name.c_str(), m.offset, file ? m.file_type : m.mem_type),
          "cannot build the " + what_ + " type (member " + m.name + ")");
    return t;
  }

  const Checker* errors_;
  std::string what_;
  std::size_t size_;
  std::vector<Member> members_;
  std::vector<Handle> strings_;  // the string members' types
};

// Packing values into a row buffer laid out by a CompoundType.
template <class T>
void put(std::vector<char>& row, const Member& m, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(row.data() + m.offset, &value, sizeof(T));
}

// A string, cut to the member's size (NUL included).
inline void put_string(std::vector<char>& row, const Member& m, const std::string& value) {
  std::memset(row.data() + m.offset, 0, m.size);
  std::memcpy(row.data() + m.offset, value.data(), std::min(value.size(), m.size - 1));
}

}  // namespace bankrun::hdf5
