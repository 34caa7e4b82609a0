// Part of lock_binding.c: pthread_mutex_lock's address as a library sees it (a GOT slot) and as
// a pointer in its data holds it.
#include <pthread.h>

int (*binding_data_pointer)(pthread_mutex_t*) = pthread_mutex_lock;

void* binding_address(void) {
  return (void*)&pthread_mutex_lock;
}
