/**
 * Native metrics through OSHI: host and external-VM samplers and the live counters file.
 * <p>
 * Not yet implemented: this module only reserves its place in the reactor (issue "Native metrics").
 */
package io.vmsched.metrics;
