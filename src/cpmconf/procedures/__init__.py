"""Procedures layer: the scene a test case acts in and the steps it takes, between the roles
(sending, waiting, answering) and the verdict layer.

Owns `Scene` (scene.py) and the step modules: `pf` (large mode through the PF), `client`
(the client SUT sending and receiving), `deferred` (the client's deferred-message handling),
`pf_deferred` (the PF's deferral, notification, push and pull) and `robustness` (raw
stimuli and the liveness probe). A step drives the exchange and returns what identifies it
(Call-ID, CSeq, Contribution-ID, Message-URI-IDs, where it stopped and why); it judges
nothing and never imports the verdict layer. The test case takes the SUT's messages from the
settled capture View (cpmconf.capture.view) by those identifiers and hands them to the
checks. Outcomes a step raises come from cpmconf.outcome.
"""
