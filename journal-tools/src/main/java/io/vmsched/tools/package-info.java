/**
 * Reading the hosts' journals together, from one data directory or several nodes':
 * {@link io.vmsched.tools.JournalSet} merges them into one sequence (each handoff in its message
 * order, the rest by time), {@link io.vmsched.tools.History} replays it (ownership, handoffs, loads,
 * decisions, invariant checks) and {@link io.vmsched.tools.Report} draws it as one HTML page;
 * {@link io.vmsched.tools.RecordFilter} selects records of a read, {@link io.vmsched.tools.JsonRecords}
 * writes them as JSON lines (through {@link io.vmsched.tools.Json}, Jackson's streaming generator) and
 * {@link io.vmsched.tools.Tail} follows live journals. The {@code vmsched journal} commands are built on
 * them.
 */
package io.vmsched.tools;
