"""emtag host side, by job: world/ (scenarios and models), run/ (firmware in
lockstep and its rigs), judge/ (oracles, scores, reports, maps), centre/ (the
monitoring centre), device/ (boards, interpreters, images, flashing). On top: the
CLIs (tagsim, tagctl), the bench, the fleet runner; shared by all, the wire format,
paths, exit codes and device secrets."""
