// The leak patterns of the `leak_patterns` program. Each runs its leaky or fixed variant and
// returns once every thread it leaks is blocked where the report should find it (the fixed
// variant returns with every thread joined).
#ifndef THREADLEAK_TESTS_E2E_PROGRAMS_PATTERNS_H_
#define THREADLEAK_TESTS_E2E_PROGRAMS_PATTERNS_H_

#include "common.h"

namespace e2e {

// channel_patterns.cc: Go channel leaks, the leaked threads wait on a condition variable.
void ForgottenSender(Variant v);
void ForgottenReceiver(Variant v);
void PrematureReturn(Variant v);
void Timeout(Variant v);
void ManySendersOneReader(Variant v);
void ConsumerLoopNeverClosed(Variant v);
void WorkerWithoutStop(Variant v);
void PeriodicLoopWithoutStop(Variant v);

// primitive_patterns.cc: threads stuck in other blocking primitives.
void BlockedFuture(Variant v);
void AtomicWait(Variant v);
void PosixSemaphore(Variant v);
void PipeRead(Variant v);
void BarrierShort(Variant v);
void JoinOnHung(Variant v);
void UnjoinedFinished(Variant v);

}  // namespace e2e

#endif  // THREADLEAK_TESTS_E2E_PROGRAMS_PATTERNS_H_
