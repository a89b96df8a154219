"""Dreamreel: make short AI videos, put yourself in them, remix your friends'.

This file only lays out the page and wires it to the handlers in ``web``
(one module per section), which call the use cases in ``studio``. Every
handler learns who is acting from the session (or Hugging Face sign-in),
never from a value the page sends.
"""

from __future__ import annotations

import gradio as gr

from vocabulary import CLIP_RULE, REPORT_REASONS
from web import App, api, views
from web.account_page import AccountPage
from web.cameo_page import PERMISSION_CHOICES, CameoPage
from web.create_page import PUBLISH_TO, SHAPES, CreatePage
from web.feed_page import FeedPage
from web.grid import Grid
from web.inbox import Inbox
from web.inputs import UPLOAD_CACHE_SECONDS
from web.nav import Nav
from web.profile_page import POSTS, ProfilePage
from web.reel import Reel

app = App.from_env()
accounts, profiles = AccountPage(app), ProfilePage(app)
feed, create, cameo = FeedPage(app, profiles), CreatePage(app), CameoPage(app)
PRIVATE = {"api_visibility": "private"}
"""Page events are not API endpoints: the named API is declared in web/api.py."""


def publish_controls():
    """The draft's id and what publishing asks: who sees it, and whether the prompt shows."""
    draft_id = gr.Number(visible=False, precision=0)
    with gr.Group(visible=False) as controls:
        with gr.Row():
            visibility = gr.Radio(PUBLISH_TO, value="public", label="Who can see it")
            hide_prompt = gr.Checkbox(label="Hide my prompt")
        publish = gr.Button("Publish", variant="primary")
    return draft_id, controls, visibility, hide_prompt, publish


def sign_in_prompt(what: str):
    with gr.Column(visible=False, elem_classes=["dr-signin-prompt"]) as prompt:
        gr.Markdown(f"### Sign in to {what}\nDreamreel is invite-only: a member's invite code lets you join.")
        join = gr.Button("Sign in or join with an invite", variant="primary")
    return prompt, join


# Gradio keeps uploads in its cache only this long; handlers read private copies (web/inputs.py).
with gr.Blocks(title="Dreamreel", delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as demo:
    api.register(app)  # first, so the endpoints keep their plain names
    token = gr.State(None)
    saved = gr.BrowserState(None, storage_key="dreamreel-session", secret=app.browser_secret)
    position, shared = gr.State(None), gr.Textbox(visible=False)

    with gr.Tabs(elem_id="dr-sections") as tabs:
        with gr.Tab("Home", id="feed"):
            reel = Reel(elem_id="dr-reel")

        with gr.Tab("Create", id="create"):
            create_signin, create_join = sign_in_prompt("make videos")
            with gr.Column() as composer:
                gr.Markdown("### New video")
                prompt = gr.Textbox(label="Prompt", placeholder="a red ball bouncing on a beach at sunset, @yourhandle")
                cameo_picker = gr.Dropdown(label="Star a cameo", multiselect=True, choices=[],
                                           info="Only cameos you may use are offered.")
                shape = gr.Radio(list(SHAPES), value="Portrait", label="Shape")
                with gr.Accordion("Settings", open=False):
                    frames = gr.Dropdown([16], value=16, label="Frames")
                    steps = gr.Slider(1, 50, value=12, step=1, label="Steps")
                    seed = gr.Number(None, label="Seed (empty: a new one each time)", precision=0)
                with gr.Row():
                    make = gr.Button("Generate", variant="primary")
                    stop = gr.Button("Cancel", variant="stop")
                draft = gr.Video(label="Your draft", autoplay=True, loop=True, interactive=False, height=420,
                                 elem_id="draft", visible=False)
                draft_id, draft_controls, visibility, hide_prompt, publish = publish_controls()
                gr.Markdown("### Drafts")
                drafts = Grid(elem_id="dr-drafts")

        with gr.Tab("Remix", id="remix"):
            remix_source = gr.Number(label="Remix post #", precision=0, visible=False)
            source_view = gr.Video(label="Remixing", interactive=False, height=220, autoplay=True, loop=True)
            lineage = gr.HTML()
            remix_prompt = gr.Textbox(label="New prompt")
            strength = gr.Slider(0.1, 1.0, value=0.6, step=0.05, label="How far from the source")
            with gr.Row():
                remix = gr.Button("Remix", variant="primary")
                remix_stop = gr.Button("Cancel", variant="stop")
            remix_draft = gr.Video(label="Your remix (draft)", autoplay=True, loop=True, interactive=False, height=420,
                                   visible=False)
            remix_id, remix_controls, remix_visibility, remix_hide, remix_publish = publish_controls()

        with gr.Tab("Cameo", id="cameo"):
            verdict = gr.Markdown()
            with gr.Column() as capture:
                gr.Markdown("### Make your cameo")
                capture_steps = gr.Markdown()
                recording = gr.Video(label=f"Record or upload a clip of {CLIP_RULE}", sources=["upload", "webcam"],
                                     elem_id="cameo-recording")
                keep = gr.Checkbox(label="Keep my recording (otherwise only face crops are kept)")
                with gr.Row():
                    record = gr.Button("Make my cameo", variant="primary")
                    other_steps = gr.Button("Other instructions")
            with gr.Column(visible=False) as my_cameo:
                gr.Markdown("### Your cameo")
                crops = gr.Gallery(show_label=False, columns=3, height=150, allow_preview=False)
                cameo_summary = gr.Markdown()
                permission = gr.Radio(PERMISSION_CHOICES, label="Who may use my cameo")
                approved = gr.Textbox(label="People I approve (handles, comma-separated)")
                restrictions = gr.Textbox(label="Restrictions (e.g. no political content)")
                save_permission = gr.Button("Save", variant="primary")
                gr.Markdown("### Videos with my cameo\nOthers' drafts included: open one to delete it.")
                cameo_uses = Grid(elem_id="dr-cameo-uses")
                with gr.Row():
                    revoke = gr.Button("Revoke everyone's use")
                    delete_cameo = gr.Button("Delete my cameo", variant="stop")

        with gr.Tab("Activity", id="activity"):
            gr.Markdown("### Activity")
            inbox = Inbox(elem_id="dr-inbox")

        with gr.Tab("Profile", id="profile"):
            profile_handle = gr.Textbox(show_label=False, placeholder="Find someone: @handle", elem_id="dr-find")
            profile_head = gr.HTML(elem_id="dr-profile-head")
            with gr.Row():
                follow = gr.Button("Follow", variant="primary", visible=False, scale=4)
                profile_more = gr.Button("⋯", visible=False, scale=1, min_width=56)
            with gr.Group(visible=False) as profile_menu:
                block = gr.Button("Block", variant="stop")
                with gr.Row():
                    user_reason = gr.Dropdown(list(REPORT_REASONS), value=REPORT_REASONS[0], label="Report for",
                                              scale=3)
                    report_user = gr.Button("Report this account", scale=2)
            profile_section = gr.Radio([POSTS], value=POSTS, show_label=False, visible=False)
            profile_grid = Grid(elem_id="dr-profile-grid")

        with gr.Tab("Verify", id="verify"):
            gr.Markdown("Upload any video to learn whether it was made here, which post it is, and whether its "
                        "invisible watermark and content credentials (C2PA) survived.")
            to_check = gr.File(label="A video (MP4)", file_types=["video"], elem_id="verify-upload")
            check = gr.Button("Check this video", variant="primary")
            verdict_html = gr.HTML(elem_id="verify-result")
            found_video = gr.Video(label="The post it came from", interactive=False, height=320)

        with gr.Tab("Moderation", id="moderation", visible=False) as moderation_tab:
            gr.Markdown("### Open reports")
            open_reports = gr.State([])

            @gr.render(inputs=[token, open_reports])
            def show_reports(session, reports):
                if not reports:
                    gr.Markdown("Nothing to review.")
                for report in reports:
                    app.report_row(app._user(session), report, token, moderation_view)

            gr.Markdown("### Refused prompts and comments")
            refused = gr.HTML()
            gr.Markdown("### Moderation log")
            moderation_log = gr.HTML()
            refresh_moderation = gr.Button("Refresh")
            gr.Markdown("### Delete an account\nComplete and at once, as the person could; logged.")
            with gr.Row():
                doomed_handle = gr.Textbox(show_label=False, placeholder="@handle", scale=3)
                delete_other = gr.Button("Delete this account", variant="stop", scale=1)

        with gr.Tab("Me", id="account"):
            whoami = gr.Markdown()
            if app.on_space:
                gr.LoginButton()
            with gr.Row(visible=not app.on_space) as visitor_forms:
                with gr.Column():
                    gr.Markdown("### Join with an invite")
                    new_handle = gr.Textbox(label="Choose a handle")
                    new_password = gr.Textbox(label="Choose a password", type="password")
                    invite_code = gr.Textbox(label="Invite code")
                    signup = gr.Button("Sign up", variant="primary")
                with gr.Column():
                    gr.Markdown("### Sign in")
                    handle = gr.Textbox(label="Your handle")
                    password = gr.Textbox(label="Your password", type="password")
                    signin = gr.Button("Sign in")
            with gr.Column(visible=False) as member_controls:
                with gr.Row():
                    invite = gr.Button("New invite code")
                    signout = gr.Button("Sign out")
                    signout_everywhere = gr.Button("Sign out everywhere")
                invites = gr.Markdown()
                with gr.Accordion("Your data", open=False):
                    gr.Markdown("Download everything Dreamreel holds about you: your profile, videos, comments, likes, "
                                "follows, notifications, your cameo and every use of it.")
                    download = gr.Button("Download my data")
                    export_status = gr.Markdown()
                    export_file = gr.File(label="Your data (zip, private to you, kept 10 minutes)", visible=False)
                    export_poll = gr.Timer(2, active=False)
                    gr.Markdown("**Delete my account.** Everything goes at once and for good: your videos, comments, "
                                "likes, follows, your cameo with its face crops, and every video of others that uses it. "
                                "Remixes others made of your videos stay, without their source. Your handle is held "
                                "for 30 days so nobody can pass as you.")
                    delete_password = gr.Textbox(label="Your password (none if you signed in with Hugging Face)",
                                                 type="password")
                    delete_handle = gr.Textbox(label="Type your handle to confirm")
                    delete_me = gr.Button("Delete my account and everything in it", variant="stop")
            with gr.Row():
                to_verify = gr.Button("Verify a video")
                to_moderation = gr.Button("Moderation", visible=False)

    nav = Nav(elem_id="dr-nav")
    badge = gr.Timer(20)

    # -- moving between sections: each section fills itself when it is opened -----------------------------
    nav.go(app.go, [token], [tabs, nav, profile_handle], **PRIVATE)
    create_view = [composer, create_signin, cameo_picker, frames, steps, drafts]
    cameo_view = [capture, capture_steps, my_cameo, crops, cameo_summary, permission, approved, restrictions,
                  cameo_uses]
    profile_view = [profile_head, follow, profile_more, profile_menu, block, profile_section, profile_grid]
    moderation_view = [moderation_tab, to_moderation, open_reports, refused, moderation_log]
    gr.on([nav.change], app.entered("create", create.show), [token, nav], create_view, **PRIVATE)
    gr.on([nav.change], app.entered("cameo", cameo.show), [token, nav], cameo_view, **PRIVATE)
    gr.on([nav.change], app.entered("activity", app.activity), [token, nav], [inbox, nav], **PRIVATE)
    gr.on([nav.change], app.entered("profile", profiles.show), [token, nav, profile_handle, profile_section],
          profile_view, **PRIVATE)
    gr.on([badge.tick], app.unread, [token], [nav], show_progress="hidden", **PRIVATE)
    for join in (create_join,):
        join.click(lambda: (gr.Tabs(selected="account"), "account"), None, [tabs, nav], **PRIVATE)

    # -- the feed ------------------------------------------------------------------------------------------
    session_out = [token, saved, whoami]
    # One round trip on load: the session, and the feed for whoever it is (a shared link's post first).
    loaded = demo.load(feed.first_load(accounts.restore_on_space if app.on_space else accounts.restore), [saved],
                       session_out + [shared, reel, position], **PRIVATE)
    loaded.then(accounts.signed_in_controls, [token], [visitor_forms, member_controls], **PRIVATE)
    loaded.then(app.unread, [token], [nav], **PRIVATE)
    reel.feed(feed.switch, [token], [reel, position], **PRIVATE)
    reel.tune(feed.tune, [token], [reel, position], **PRIVATE)
    reel.follow(feed.follow, [token], [reel, position], **PRIVATE)
    reel.more(feed.more, [token, position], [reel, position], **PRIVATE)
    for event, handler in ((reel.like, feed.like), (reel.comments, feed.comments), (reel.comment, feed.comment),
                           (reel.report, feed.report), (reel.source, feed.source), (reel.delete, feed.delete),
                           (reel.publish, feed.publish), (reel.less, feed.less)):
        event(handler, [token], [reel], **PRIVATE)
    reel.watched(feed.watched, [token], None, show_progress="hidden", **PRIVATE)
    reel.join(lambda: (gr.Tabs(selected="account"), "account"), None, [tabs, nav], **PRIVATE)
    reel.remix(feed.remix, None, [tabs, nav, remix_source], **PRIVATE)
    reel.profile(feed.profile, [token], [tabs, nav, profile_handle, *profile_view], **PRIVATE)
    for grid in (drafts, cameo_uses, profile_grid):
        grid.open(feed.open_post, [token], [tabs, nav, reel], **PRIVATE)
    inbox.open(feed.open_activity, [token], [tabs, nav, reel, profile_handle, *profile_view], **PRIVATE)

    # -- accounts: after signing in, up or out, the feed is shown anew, and the forms are cleared ----------
    landing = [reel, position, tabs, nav, new_handle, new_password, invite_code, handle, password,
               visitor_forms, member_controls]
    for button, action, inputs in ((signup, accounts.sign_up, [new_handle, new_password, invite_code]),
                                   (signin, accounts.sign_in, [handle, password]),
                                   (signout, accounts.sign_out, [token]),
                                   (signout_everywhere, accounts.sign_out_everywhere, [token])):
        button.click(action, inputs, session_out, **PRIVATE).success(app.land(feed, accounts), [token], landing,
                                                                    **PRIVATE)
    invite.click(accounts.new_invite, [token], [invites], **PRIVATE)
    download.click(accounts.download, [token], [export_file, export_poll, export_status], **PRIVATE)
    export_poll.tick(accounts.export_ready, [token], [export_file, export_poll, export_status], show_progress="hidden",
                     **PRIVATE)
    delete_me.click(accounts.delete_account, [token, delete_password, delete_handle],
                    session_out + [delete_password, delete_handle], **PRIVATE).success(
        app.land(feed, accounts), [token], landing, **PRIVATE)

    # -- making videos -------------------------------------------------------------------------------------
    making = make.click(create.generate, [token, prompt, cameo_picker, shape, frames, steps, seed],
                        [draft, draft_id, draft_controls, drafts], concurrency_limit=1, concurrency_id="generate",
                        **PRIVATE)
    stop.click(create.cancel, [token], None, cancels=[making], **PRIVATE)
    published = [tabs, nav, reel]
    publish.click(create.publish, [token, draft_id, visibility, hide_prompt],
                  published + [draft, draft_id, draft_controls, drafts], **PRIVATE)
    remix_source.change(create.remix_source, [token, remix_source], [source_view, lineage, remix_prompt], **PRIVATE)
    remixing = remix.click(create.generate_remix, [token, remix_source, remix_prompt, strength],
                           [remix_draft, remix_id, remix_controls], concurrency_limit=1, concurrency_id="generate",
                           **PRIVATE)
    remix_stop.click(create.cancel, [token], None, cancels=[remixing], **PRIVATE)
    remix_publish.click(create.publish, [token, remix_id, remix_visibility, remix_hide],
                        published + [remix_draft, remix_id, remix_controls, drafts], **PRIVATE)

    # -- cameo ---------------------------------------------------------------------------------------------
    record.click(cameo.make, [token, recording, keep], [verdict] + cameo_view, **PRIVATE)
    other_steps.click(cameo.new_challenge, [token], [capture_steps], **PRIVATE)
    save_permission.click(cameo.save, [token, permission, approved, restrictions], [verdict, cameo_summary], **PRIVATE)
    revoke.click(cameo.revoke, [token], [verdict] + cameo_view, **PRIVATE)
    delete_cameo.click(cameo.delete, [token], [verdict] + cameo_view, **PRIVATE)

    # -- profiles ------------------------------------------------------------------------------------------
    gr.on([profile_handle.submit, profile_section.input], profiles.show, [token, profile_handle, profile_section],
          profile_view, trigger_mode="always_last", **PRIVATE)
    follow.click(profiles.follow, [token, profile_handle, profile_section], profile_view, **PRIVATE)
    block.click(profiles.block, [token, profile_handle, profile_section], profile_view, **PRIVATE)
    profile_more.click(lambda: gr.Group(visible=True), None, [profile_menu], **PRIVATE)
    report_user.click(profiles.report, [token, profile_handle, user_reason], [profile_menu], **PRIVATE)

    # -- verify and moderation -----------------------------------------------------------------------------
    check.click(app.verify, [token, to_check], [verdict_html, found_video], **PRIVATE)
    to_verify.click(lambda: gr.Tabs(selected="verify"), None, [tabs], **PRIVATE)
    to_moderation.click(lambda: gr.Tabs(selected="moderation"), None, [tabs], **PRIVATE)
    gr.on([token.change, refresh_moderation.click], app.moderation_page, [token], moderation_view, **PRIVATE)
    delete_other.click(app.delete_account, [token, doomed_handle], moderation_view, **PRIVATE)


if __name__ == "__main__":
    demo.queue(default_concurrency_limit=8).launch(server_name=app.settings.host, server_port=app.settings.port,
                                                   css=views.CSS, prevent_thread_lock=True, **app.launch_options())
    app.start()  # after the page is up: the model and the demo community load in the background
    demo.block_thread()
