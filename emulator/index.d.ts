// The addon's generated types (the emulator's options, faults and records).
export * from './binding'
