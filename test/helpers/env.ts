// The reference outputs were captured with TZ=UTC; our times print in the local zone as theirs do.
process.env.TZ = 'UTC';
// A SOURCE_DATE_EPOCH in the caller's environment would make mkfs seed its UUIDs and clamp
// times; tests that want it set it themselves.
delete process.env.SOURCE_DATE_EPOCH;
