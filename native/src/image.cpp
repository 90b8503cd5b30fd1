// Image decoding and PNG encoding through OpenCV's imgcodecs, when the build found it.
#include "common.h"

#ifdef DT_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

using dt::T;
using dt::wrap;

namespace {
#ifdef DT_WITH_OPENCV
// OpenCV keeps colour as BGR; the shim hands out RGB, as PIL and torchvision do.
void swap_red_blue(uint8_t* p, int64_t pixels, int64_t channels) {
  if (channels < 3) return;
  for (int64_t i = 0; i < pixels; i++) std::swap(p[i * channels], p[i * channels + 2]);
}
#endif
}  // namespace

extern "C" {

int32_t dt_image_decode(const uint8_t* data, int64_t length, int32_t channels, dt_tensor* out) {
  return dt::guard("image_decode", [&] {
#ifdef DT_WITH_OPENCV
    if (channels != 0 && channels != 1 && channels != 3)
      throw std::invalid_argument("channels must be 0 (as stored), 1 or 3; got " + std::to_string(channels));
    const int flags = channels == 1 ? cv::IMREAD_GRAYSCALE : channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
    cv::Mat raw(1, static_cast<int>(length), CV_8UC1, const_cast<uint8_t*>(data));
    cv::Mat image = cv::imdecode(raw, flags);
    if (image.empty()) throw std::invalid_argument("the bytes are not an image OpenCV can decode");
    if (image.depth() != CV_8U) throw std::invalid_argument("only 8-bit images are supported");
    const int64_t h = image.rows, w = image.cols, c = image.channels();
    auto t = at::empty({h, w, c}, at::kByte);
    auto* dst = t.data_ptr<uint8_t>();
    for (int64_t y = 0; y < h; y++) std::memcpy(dst + y * w * c, image.ptr<uint8_t>(static_cast<int>(y)), static_cast<size_t>(w * c));
    swap_red_blue(dst, h * w, c);
    *out = wrap(std::move(t));
#else
    (void)data; (void)length; (void)channels; (void)out;
    throw std::runtime_error("this shim was built without OpenCV (install libopencv-imgcodecs-dev and rebuild)");
#endif
  });
}

int32_t dt_image_encode_png(dt_tensor image, dt_tensor* out) {
  return dt::guard("image_encode_png", [&] {
#ifdef DT_WITH_OPENCV
    auto t = T(image).contiguous();
    if (t.scalar_type() != at::kByte || t.dim() != 3) throw std::invalid_argument("expected a UInt8 [H, W, C] tensor");
    const int64_t h = t.size(0), w = t.size(1), c = t.size(2);
    auto copy = t.clone();
    swap_red_blue(copy.data_ptr<uint8_t>(), h * w, c);
    cv::Mat mat(static_cast<int>(h), static_cast<int>(w), CV_8UC(static_cast<int>(c)), copy.data_ptr<uint8_t>());
    std::vector<uint8_t> bytes;
    if (!cv::imencode(".png", mat, bytes)) throw std::runtime_error("PNG encoding failed");
    auto r = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
    std::memcpy(r.data_ptr<uint8_t>(), bytes.data(), bytes.size());
    *out = wrap(std::move(r));
#else
    (void)image; (void)out;
    throw std::runtime_error("this shim was built without OpenCV (install libopencv-imgcodecs-dev and rebuild)");
#endif
  }, image);
}

}  // extern "C"
