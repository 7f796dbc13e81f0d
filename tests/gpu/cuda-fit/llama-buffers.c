// Loads one GGUF model with llama.cpp and creates one context, without decoding, so that llama.cpp prints the
// sizes of the buffers it allocated ("model buffer size", "KV buffer size", "output buffer size", "compute
// buffer size", one line per backend: CUDA0, CUDA_Host, CPU, CPU_Mapped). Everything llama.cpp logs goes to
// stdout; compare_fit.py reads it. Built against the llama.h of the llama.cpp release it runs with (see
// cuda-fit-check.sh); the backends (libggml-cpu-*.so, libggml-cuda.so) are loaded from <backend-dir>, or, with
// "-", are the ones linked in (a build with GGML_BACKEND_DL=OFF).
//
// usage: llama-buffers <backend-dir> <model.gguf> <n_ctx> <cache-type: f16|bf16|q8_0|q4_0|...> <flash-attn: 0|1> <n_gpu_layers>
// exit: 0 when the model and the context were created, 1 otherwise.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "llama.h"

static void log_to_stdout(enum ggml_log_level level, const char * text, void * user_data) {
    (void) level;
    (void) user_data;
    fputs(text, stdout);
    fflush(stdout);
}

static int cache_type_of(const char * name, enum ggml_type * type) {
    static const struct { const char * name; enum ggml_type type; } types[] = {
        { "f32", GGML_TYPE_F32 },   { "f16", GGML_TYPE_F16 },   { "bf16", GGML_TYPE_BF16 },
        { "q8_0", GGML_TYPE_Q8_0 }, { "q4_0", GGML_TYPE_Q4_0 }, { "q4_1", GGML_TYPE_Q4_1 },
        { "q5_0", GGML_TYPE_Q5_0 }, { "q5_1", GGML_TYPE_Q5_1 }, { "iq4_nl", GGML_TYPE_IQ4_NL },
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].name, name) == 0) {
            *type = types[i].type;
            return 1;
        }
    }
    return 0;
}

int main(int argc, char ** argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s <backend-dir> <model.gguf> <n_ctx> <cache-type> <flash-attn 0|1> <n_gpu_layers>\n", argv[0]);
        return 2;
    }
    enum ggml_type cache;
    if (!cache_type_of(argv[4], &cache)) {
        fprintf(stderr, "unknown cache type '%s'\n", argv[4]);
        return 2;
    }

    llama_log_set(log_to_stdout, NULL);
    if (strcmp(argv[1], "-") != 0) {
        ggml_backend_load_all_from_path(argv[1]);
    }
    llama_backend_init();
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        printf("llama-buffers: device %zu: %s (%s)\n", i, ggml_backend_dev_name(dev), ggml_backend_dev_description(dev));
    }

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = atoi(argv[6]);
    // Memory-mapped, never read on the host side beyond what the GPU upload needs, and no CPU_REPACK buffers:
    // the host model buffer is then the tensor data as stored (what the estimate counts).
    mp.load_mode = LLAMA_LOAD_MODE_MMAP;
    mp.lazy_mode = LLAMA_LAZY_MODE_OFF;
    mp.use_extra_bufts = false;
    struct llama_model * model = llama_model_load_from_file(argv[2], mp);
    if (model == NULL) {
        fprintf(stderr, "llama-buffers: cannot load %s\n", argv[2]);
        return 1;
    }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) atoi(argv[3]);
    cp.n_batch = 2048;
    cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.type_k = cache;
    cp.type_v = cache;
    cp.flash_attn_type = atoi(argv[5]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    // llama-server's default (and the estimate's): the SWA cache holds window + ubatch cells, not the context.
    cp.swa_full = false;
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (ctx == NULL) {
        fprintf(stderr, "llama-buffers: cannot create a context for %s\n", argv[2]);
        llama_model_free(model);
        return 1;
    }

    printf("llama-buffers: ok n_ctx=%u\n", llama_n_ctx(ctx));
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
