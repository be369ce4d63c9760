/**
 * Reading the hosts' journals together: {@link io.vmsched.tools.JournalSet} merges them into one
 * time-ordered sequence, {@link io.vmsched.tools.History} replays it (ownership, handoffs, loads,
 * decisions, invariant checks) and {@link io.vmsched.tools.Report} draws it as one HTML page. The
 * {@code vmsched journal} commands are built on them.
 */
package io.vmsched.tools;
