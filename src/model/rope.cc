#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace moeinfer {

namespace {

// YaRN's correction range (DeepSeek model.py find_correction_range): the dims whose wavelength
// turns `rotations` times over the original context.
double yarn_correction_dim(double rotations, int64_t dim, double base, double context) {
  const double pi = 3.14159265358979323846;
  return dim * std::log(context / (rotations * 2.0 * pi)) / (2.0 * std::log(base));
}

}  // namespace

double yarn_mscale(double factor, double mscale) { return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0; }

std::vector<float> rope_inv_freq(const RopeConfig& r) {
  const int64_t half = r.n_rot / 2;
  std::vector<float> out(half);
  float low = 0.0f, high = 0.0f;
  if (r.scaling == RopeScaling::kYarn) {
    low = static_cast<float>(std::max(
        std::floor(yarn_correction_dim(r.beta_fast, r.n_rot, r.theta, static_cast<double>(r.original_context))), 0.0));
    high = static_cast<float>(std::min(
        std::ceil(yarn_correction_dim(r.beta_slow, r.n_rot, r.theta, static_cast<double>(r.original_context))),
        static_cast<double>(r.n_rot - 1)));
    if (low == high) high += 0.001f;
  }
  for (int64_t i = 0; i < half; ++i) {
    // F32, as the references compute it: 1 / theta^(2i/d)
    const float base = 1.0f / static_cast<float>(std::pow(r.theta, static_cast<double>(2 * i) / r.n_rot));
    float f = base;
    switch (r.scaling) {
      case RopeScaling::kNone: break;
      case RopeScaling::kLinear: f = base / static_cast<float>(r.factor); break;
      case RopeScaling::kYarn: {
        // ramp 0 keeps f (high-frequency dims), ramp 1 divides by factor; F32 as in model.py
        float ramp = (static_cast<float>(i) - low) / (high - low);
        ramp = ramp < 0.0f ? 0.0f : ramp > 1.0f ? 1.0f : ramp;
        const float smooth = 1.0f - ramp;
        f = base / static_cast<float>(r.factor) * (1.0f - smooth) + base * smooth;
        break;
      }
      case RopeScaling::kLlama3: {
        const double pi = 3.14159265358979323846;
        const double wavelen = 2.0 * pi / base;
        const double low_wavelen = r.original_context / r.low_freq_factor;
        const double high_wavelen = r.original_context / r.high_freq_factor;
        if (wavelen < high_wavelen) {
          f = base;
        } else if (wavelen > low_wavelen) {
          f = base / static_cast<float>(r.factor);
        } else {
          const double smooth = (r.original_context / wavelen - r.low_freq_factor) /
                                (r.high_freq_factor - r.low_freq_factor);
          f = static_cast<float>((1.0 - smooth) * base / r.factor + smooth * base);
        }
        break;
      }
    }
    if (!r.freq_factors.empty()) f = base / r.freq_factors[static_cast<size_t>(i)];
    out[i] = f;
  }
  return out;
}

}  // namespace moeinfer
