#pragma once
// Marks the public API. The library keeps default visibility (its explicit template
// instantiations are the API), so this only documents intent on non-Linux builds.
#if defined(_WIN32)
#define NN_API
#else
#define NN_API __attribute__((visibility("default")))
#endif
