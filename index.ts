// Pulumi runs the exported function and makes what it returns the stack's outputs.
import { gaiaStack } from "./program";

export = gaiaStack;
