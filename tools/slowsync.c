// slowsync.so: makes every fsync and fdatasync of a process take
// SLOWSYNC_US microseconds more (default 4000), one at a time, as this
// machine's disk does in its slow periods (docs/PERFORMANCE.md, "The
// machine"). For measurements only:
//
//   gcc -O2 -shared -fPIC -o slowsync.so tools/slowsync.c -ldl -lpthread
//   LD_PRELOAD=$PWD/slowsync.so build-perf/bin/indelibled --data-dir ...
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

// One flush at a time, as the device takes them.
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void Wait(void) {
  static long us = -1;
  if (us < 0) {
    const char* e = getenv("SLOWSYNC_US");
    us = e != NULL ? atol(e) : 4000;
  }
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

// Waits, then calls the libc function `name` (looked up once into *real).
static int Slow(int (**real)(int), const char* name, int fd) {
  if (*real == NULL) *real = (int (*)(int))dlsym(RTLD_NEXT, name);
  if (*real == NULL) abort();
  pthread_mutex_lock(&mu);
  Wait();
  int r = (*real)(fd);
  pthread_mutex_unlock(&mu);
  return r;
}

int fdatasync(int fd) {
  static int (*real)(int);
  return Slow(&real, "fdatasync", fd);
}

int fsync(int fd) {
  static int (*real)(int);
  return Slow(&real, "fsync", fd);
}
