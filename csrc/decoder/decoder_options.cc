#include "decoder/decoder_options.h"

#include <sstream>
#include <type_traits>

namespace pywfst {

const std::vector<OptionSpec>& DecoderOptions::Specs() {
  static const std::vector<OptionSpec> specs = {
#define PYWFST_OPTION_SPEC(type, name, default_value, low, low_excluded, high, doc) \
  {#name, std::is_same_v<type, bool> ? "bool" : std::is_integral_v<type> ? "int" : "float", \
   default_value, low, low_excluded, high, doc},
      PYWFST_DECODER_OPTIONS(PYWFST_OPTION_SPEC)
#undef PYWFST_OPTION_SPEC
  };
  return specs;
}

std::string OptionSpec::Expected() const {
  std::ostringstream out;
  out.precision(17);
  if (type == "bool") {
    out << "True or False";
  } else if (type == "int") {
    out << "an integer in [" << low << ", " << high << "]";
  } else {
    out << (high == kUnbounded ? "a number" : "a finite number");
    const bool has_low = low > -kAnyFinite;
    if (has_low) out << (low_excluded ? " > " : " >= ") << low;
    if (high < kAnyFinite) out << (has_low ? " and <= " : " <= ") << high;
  }
  return out.str();
}

void DecoderOptions::Check() const {
  const std::vector<OptionSpec>& specs = Specs();
  size_t index = 0;
  // The specs come in the list's order, as the members do.
#define PYWFST_CHECK_OPTION(type, name, default_value, low, low_excluded, high, doc)           \
  if (!specs[index].Accepts(static_cast<double>(name)))                                       \
    throw InputError(Concat(#name ": must be ", specs[index].Expected(), ", got ", name));   \
  ++index;
  PYWFST_DECODER_OPTIONS(PYWFST_CHECK_OPTION)
#undef PYWFST_CHECK_OPTION
  if (min_active > max_active)
    throw InputError(Concat("min_active: must be at most max_active=", max_active, ", got ",
                            min_active));
}

}  // namespace pywfst
