// Ctrl-C and kill for a command that runs until it is told to stop (the demo, trace,
// logs --follow): SIGINT and SIGTERM set a flag the command's loop checks, so that it ends
// through its destructors (namespaces removed, trace events turned off) instead of dying.
#pragma once

namespace fp {

// Installs the handlers, without SA_RESTART: a wait in progress returns at once (EINTR).
void stop_on_signals();
bool stop_requested();

} // namespace fp
