// The backbone a spec names, behind the interface the net and the band decoder use.
#include "nn/net.h"

namespace nn {

template <class T>
std::unique_ptr<Backbone<T>> make_backbone(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed) {
  switch (spec.type) {
    case BackboneType::sandwich:
      return std::make_unique<Sandwich<T>>(n_inputs, spec, dropout_seed);
    case BackboneType::mlp:
      return std::make_unique<Mlp<T>>(n_inputs, spec, dropout_seed);
  }
  throw Error(str("make_backbone: unknown backbone type ", int(spec.type)));
}

template NN_API std::unique_ptr<Backbone<float>> make_backbone<float>(Index, const BackboneSpec&, std::uint64_t);
template NN_API std::unique_ptr<Backbone<double>> make_backbone<double>(Index, const BackboneSpec&, std::uint64_t);

}  // namespace nn
