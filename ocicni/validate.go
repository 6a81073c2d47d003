package ocicni

// ValidatePodNetwork checks a setup request the way SetUpPod does before it
// looks at the loaded configuration: sandbox ID, CNI_ARGS values, netns path,
// interface names and per-network runtime configuration. An error matches
// ErrInvalidPodNetwork. A fake CNIPlugin can call it to refuse exactly what
// the real one refuses.
func ValidatePodNetwork(pod PodNetwork) error {
	return validateSetup(&pod)
}
