// hostmem: memory outside the MicroPython heap for the host board, as a device
// has it. rom(path) maps a ROMFS image read-only, as a board's flash partition
// is mapped; ram(n) is a driver's buffer (an ESP32 UART's receive buffer belongs
// to the ESP-IDF driver, not to the heap). Neither is ever freed: the process
// ends first, as flash and driver memory outlive the interpreter. stack(n) holds
// the interpreter to n bytes of C stack, as a board's MicroPython task is held
// to its own (the unix port allows 40,000): deeper, RuntimeError, as there.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "py/objarray.h"
#include "py/runtime.h"
#include "py/mperrno.h"

static mp_obj_t hostmem_rom(mp_obj_t path_in) {
    const char *path = mp_obj_str_get_str(path_in);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        mp_raise_OSError(MP_EIO);
    }
    void *at = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (at == MAP_FAILED) {
        mp_raise_OSError(err);
    }
    return mp_obj_new_memoryview('B', st.st_size, at);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hostmem_rom_obj, hostmem_rom);

static mp_obj_t hostmem_ram(mp_obj_t size_in) {
    mp_int_t n = mp_obj_get_int(size_in);
    void *at = n > 0 ? calloc(1, n) : NULL;
    if (at == NULL) {
        mp_raise_OSError(MP_ENOMEM);
    }
    return mp_obj_new_memoryview('B' | MP_OBJ_ARRAY_TYPECODE_FLAG_RW, n, at);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hostmem_ram_obj, hostmem_ram);

static mp_obj_t hostmem_stack(mp_obj_t size_in) {
    mp_int_t n = mp_obj_get_int(size_in);
    if (n <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("stack size"));
    }
    MP_STATE_THREAD(stack_limit) = n;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hostmem_stack_obj, hostmem_stack);

static const mp_rom_map_elem_t hostmem_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hostmem) },
    { MP_ROM_QSTR(MP_QSTR_rom), MP_ROM_PTR(&hostmem_rom_obj) },
    { MP_ROM_QSTR(MP_QSTR_ram), MP_ROM_PTR(&hostmem_ram_obj) },
    { MP_ROM_QSTR(MP_QSTR_stack), MP_ROM_PTR(&hostmem_stack_obj) },
};
static MP_DEFINE_CONST_DICT(hostmem_globals, hostmem_globals_table);

const mp_obj_module_t hostmem_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hostmem_globals,
};
MP_REGISTER_MODULE(MP_QSTR_hostmem, hostmem_module);
