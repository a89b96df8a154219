// The feed as a short-video app: one video per screen, played while in view. (Run by gr.HTML's js_on_load:
// `element`, `props`, `trigger` and `watch` are given.)
//
// Python sends messages as `props.value` (web/reel.py says which); this script keeps what is shown and
// changes only what a message names, so a like or "load more" never rebuilds the videos already playing.
// Every word a user wrote is set with textContent: nothing from a post is ever parsed as HTML.
// Actions go back to Python with trigger(name, {id, ...}); the answer comes as the next message.

const root = element.querySelector(".dr-reel");
const list = root.querySelector(".dr-slides");
const sheet = root.querySelector(".dr-sheet");
const toastBox = root.querySelector(".dr-toast");
const tabs = root.querySelector(".dr-feeds");
const banner = root.querySelector(".dr-banner");

const state = {
  posts: new Map(),      // id -> {post, slide}
  signedIn: false,
  more: false,
  askedMore: false,
  feed: "For you",
  seq: -1,
  active: null,          // the slide in view
  sheetFor: null,        // the post whose comments are open
};
const WATCHED_MS = 2000; // a view counts after this long on screen, playing
const DOUBLE_TAP_MS = 280;

function make(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.filter(Boolean));
  return el;
}

function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

function count(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(n < 1e7 ? 1 : 0).replace(/\.0$/, "") + "M";
  if (n >= 1e3) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0).replace(/\.0$/, "") + "K";
  return String(n);
}

function toast(text) {
  toastBox.textContent = text;
  toastBox.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { toastBox.hidden = true; }, 2600);
}

// -- signing in --------------------------------------------------------------------------------------

function needsAccount(what) {
  if (state.signedIn) return false;
  openSheet("Join Dreamreel", (body) => {
    body.append(make("p", { class: "dr-sheet-text", text: `Sign in to ${what}. Dreamreel is invite-only: a member's invite code lets you join.` }));
    body.append(make("button", { class: "dr-primary dr-join", text: "Sign in or join with an invite",
      onclick: () => { closeSheet(); trigger("join", {}); } }));
  });
  return true;
}

// -- one slide per post ------------------------------------------------------------------------------

const HEART = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 21s-7.5-4.6-9.6-9.3C.9 8.2 3 4.5 6.6 4.5c2.1 0 3.6 1.2 5.4 3.2 1.8-2 3.3-3.2 5.4-3.2 3.6 0 5.7 3.7 4.2 7.2C19.5 16.4 12 21 12 21z"/></svg>';
const BUBBLE = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4 21l4.3-2c1.2.3 2.4.5 3.7.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"/></svg>';
const REMIX = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 7h11l-3-3 1.4-1.4L19 8l-5.6 5.4L12 12l3-3H4zm16 10H9l3 3-1.4 1.4L5 16l5.6-5.4L12 12l-3 3h11z"/></svg>';
const SHARE = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M14 4l7 7-7 7v-4.1c-5 0-8.5 1.6-11 5.1 1-5 4-10 11-11z"/></svg>';
const DOTS = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="5" cy="12" r="2.2"/><circle cx="12" cy="12" r="2.2"/><circle cx="19" cy="12" r="2.2"/></svg>';

function railButton(cls, icon, label, onclick) {
  const button = make("button", { class: `dr-rail-button ${cls}`, "aria-label": label, title: label, onclick });
  button.insertAdjacentHTML("afterbegin", icon);  // our own constant markup, never user text
  button.append(make("span", { class: "dr-n" }));
  return button;
}

function buildSlide(post) {
  const video = make("video", { class: "dr-video", src: post.video_url, poster: post.thumbnail_url, muted: true,
    loop: true, playsinline: true, preload: "metadata", "data-id": post.id });
  video.muted = true;  // the attribute alone does not mute in every browser
  const slide = make("section", { class: "dr-slide", "data-id": post.id, "aria-label": `Video by @${post.author}` },
    make("div", { class: "dr-backdrop" }),
    video,
    make("div", { class: "dr-heart", "aria-hidden": "true" }),
    make("div", { class: "dr-paused", "aria-hidden": "true", text: "▶" }));
  if (post.thumbnail_url) slide.querySelector(".dr-backdrop").style.backgroundImage = `url("${encodeURI(post.thumbnail_url)}")`;
  const id = post.id;
  const rail = make("aside", { class: "dr-rail" },
    railButton("dr-like", HEART, "Like", () => like(id, !state.posts.get(id).post.liked)),
    railButton("dr-open-comments", BUBBLE, "Comments", () => openComments(id)),
    railButton("dr-remix", REMIX, "Remix", () => { if (!needsAccount("remix videos")) trigger("remix", { id }); }),
    railButton("dr-share", SHARE, "Share", () => share(id)),
    railButton("dr-more", DOTS, "More", () => openMenu(id)));
  rail.querySelector(".dr-remix .dr-n").textContent = "Remix";
  rail.querySelector(".dr-share .dr-n").textContent = "Share";
  slide.append(rail, make("div", { class: "dr-info" }));
  tapHandling(slide, video, id);
  return slide;
}

function fillSlide(slide, post) {
  const like = slide.querySelector(".dr-like");
  like.classList.toggle("dr-on", post.liked);
  like.setAttribute("aria-pressed", String(post.liked));
  like.querySelector(".dr-n").textContent = count(post.likes);
  slide.querySelector(".dr-open-comments .dr-n").textContent = count(post.comments);
  const info = slide.querySelector(".dr-info");
  info.replaceChildren(...[
    make("div", { class: "dr-byline" },
      make("button", { class: "dr-author", text: `@${post.author}`, onclick: () => trigger("profile", { handle: post.author }) }),
      post.demo ? make("span", { class: "dr-badge", text: "demo" }) : null,
      post.draft ? make("span", { class: "dr-badge", text: "draft" }) : null,
      post.visibility === "friends" ? make("span", { class: "dr-badge", text: "friends" }) : null),
    post.prompt !== null ? make("p", { class: "dr-prompt", text: post.prompt })
                         : make("p", { class: "dr-prompt dr-hidden-prompt", text: "Prompt hidden by the author" }),
    post.source_author ? make("button", { class: "dr-source", text: `↻ remix of @${post.source_author}`,
      onclick: () => trigger("source", { id: post.source_id }) })
      : post.source_id !== null ? make("span", { class: "dr-source dr-source-gone", text: "↻ remix · source not available" }) : null,
    post.cameos.length ? make("div", { class: "dr-cameos" }, make("span", { text: "starring " }),
      ...post.cameos.map((h) => make("button", { class: "dr-cameo", text: `@${h}`, onclick: () => trigger("profile", { handle: h }) }))) : null,
  ].filter(Boolean));
}

function tapHandling(slide, video, id) {
  // One tap pauses or plays; two quick taps like (and show a heart), as in every short-video app.
  let last = 0, single = null;
  slide.addEventListener("click", (event) => {
    if (event.target.closest("button, .dr-sheet")) return;
    const now = Date.now();
    if (now - last < DOUBLE_TAP_MS) {
      clearTimeout(single);
      last = 0;
      if (needsAccount("like videos")) return;
      burst(slide, event);
      if (!state.posts.get(id).post.liked) like(id, true);
      return;
    }
    last = now;
    single = setTimeout(() => {
      if (video.paused) { video.play().catch(() => {}); slide.classList.remove("dr-is-paused"); }
      else { video.pause(); slide.classList.add("dr-is-paused"); }
    }, DOUBLE_TAP_MS);
  });
}

function burst(slide, event) {
  const heart = slide.querySelector(".dr-heart");
  const box = slide.getBoundingClientRect();
  heart.style.left = `${event.clientX - box.left}px`;
  heart.style.top = `${event.clientY - box.top}px`;
  heart.classList.remove("dr-burst");
  void heart.offsetWidth;  // restart the animation
  heart.classList.add("dr-burst");
}

// -- playing the one in view ---------------------------------------------------------------------------

const seen = new Set();
const watching = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const slide = entry.target;
    const video = slide.querySelector("video");
    if (entry.isIntersecting && entry.intersectionRatio >= 0.6) activate(slide, video);
    else if (!video.paused) { video.pause(); clearTimeout(slide.watchTimer); }
  }
}, { root: list, threshold: [0, 0.6, 1] });

const watchedHere = new Set();  // videos shown in this sitting (this page, since it was opened)

function activate(slide, video) {
  state.active = slide;
  watchedHere.add(slide.dataset.id);
  if (state.breakAfter && watchedHere.size % state.breakAfter === 0 && !slide.dataset.breakShown) {
    slide.dataset.breakShown = "1";
    openSheet("Time for a break?", (body) => {
      body.append(make("p", { class: "dr-sheet-text", text: `You've watched ${watchedHere.size} videos in a row. Stretch, look away from the screen, drink some water.` }),
        make("button", { class: "dr-primary dr-keep-watching", text: "Keep watching", onclick: closeSheet }));
    });
  }
  root.dataset.active = slide.dataset.id;
  slide.classList.remove("dr-is-paused");
  video.play().catch(() => {});
  const id = Number(slide.dataset.id);
  if (!seen.has(id)) slide.watchTimer = setTimeout(() => { seen.add(id); trigger("watched", { id }); }, WATCHED_MS);
  // Preload the next one so it starts at once when it snaps into view.
  const next = slide.nextElementSibling;
  if (next) { const v = next.querySelector("video"); if (v.preload !== "auto") { v.preload = "auto"; v.load(); } }
  const rest = list.children.length - [...list.children].indexOf(slide) - 1;
  if (rest <= 2 && state.more && !state.askedMore) { state.askedMore = true; trigger("more", {}); }
}

root.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea")) return;
  if (!["ArrowDown", "ArrowUp", "j", "k"].includes(event.key) || !state.active) return;
  const to = ["ArrowDown", "j"].includes(event.key) ? state.active.nextElementSibling : state.active.previousElementSibling;
  if (to) { to.scrollIntoView({ behavior: "smooth" }); event.preventDefault(); }
});

// -- actions -------------------------------------------------------------------------------------------

function like(id, liked) {
  if (needsAccount("like videos")) return;
  const entry = state.posts.get(id);
  // Shown at once; the server's answer (the next message) settles the count.
  entry.post = { ...entry.post, liked, likes: Math.max(0, entry.post.likes + (liked ? 1 : -1)) };
  fillSlide(entry.slide, entry.post);
  trigger("like", { id, liked });
}

async function share(id) {
  const link = `${location.origin}${location.pathname}?post=${id}`;
  try {
    await navigator.clipboard.writeText(link);
    toast("Link copied");
  } catch (e) {
    openSheet("Share", (body) => {
      const field = make("input", { class: "dr-input", value: link, readonly: true, "aria-label": "Link to this video" });
      body.append(make("p", { class: "dr-sheet-text", text: "Copy this link:" }), field);
      setTimeout(() => field.select(), 0);
    });
  }
}

// -- sheets: comments, the ⋯ menu, sign-in -----------------------------------------------------------------

function openSheet(title, build, footer) {
  const body = make("div", { class: "dr-sheet-body" });
  const panel = make("div", { class: "dr-sheet-panel", role: "dialog", "aria-label": title },
    make("header", { class: "dr-sheet-head" }, make("b", { text: title }),
      make("button", { class: "dr-close", "aria-label": "Close", text: "✕", onclick: closeSheet })),
    body);
  if (footer) panel.append(footer);
  sheet.replaceChildren(panel);
  sheet.hidden = false;
  build(body);
  return body;
}

function closeSheet() {
  sheet.hidden = true;
  sheet.replaceChildren();
  state.sheetFor = null;
}
sheet.addEventListener("click", (event) => { if (event.target === sheet) closeSheet(); });

function openComments(id) {
  const box = make("textarea", { class: "dr-input dr-comment-input", rows: 1, maxlength: 500,
    placeholder: state.signedIn ? "Add a comment…" : "Sign in to comment", "aria-label": "Your comment" });
  const send = make("button", { class: "dr-primary dr-send", text: "Post", onclick: () => {
    if (needsAccount("comment")) return;
    if (!box.value.trim()) { box.focus(); return; }
    send.disabled = true;
    trigger("comment", { id, text: box.value });
    setTimeout(() => { send.disabled = false; }, 1500);  // an error keeps the text; the button comes back
  } });
  box.addEventListener("keydown", (event) => { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send.click(); } });
  const footer = make("div", { class: "dr-sheet-foot" }, box, send);
  const body = openSheet(plural(state.posts.get(id).post.comments, "comment", "comments"), (b) => {
    b.append(make("p", { class: "dr-sheet-text dr-loading", text: "Loading…" }));
  }, footer);
  body.classList.add("dr-comment-list");
  state.sheetFor = id;
  trigger("comments", { id });
}

function showComments(message) {
  if (state.sheetFor !== message.id) return;
  const body = sheet.querySelector(".dr-comment-list");
  if (!body) return;
  sheet.querySelector(".dr-sheet-head b").textContent = plural(message.comments.length, "comment", "comments");
  body.replaceChildren(...(message.comments.length ? message.comments.map((c) => make("div", { class: "dr-comment" },
    make("button", { class: "dr-comment-author", text: `@${c.author}`, onclick: () => { closeSheet(); trigger("profile", { handle: c.author }); } }),
    make("span", { class: "dr-comment-text", text: c.text }),
    make("span", { class: "dr-comment-when", text: c.when }))) : [make("p", { class: "dr-sheet-text", text: "No comments yet. Say something nice." })]));
  if (message.posted) {
    const box = sheet.querySelector(".dr-comment-input");
    box.value = "";
    sheet.querySelector(".dr-send").disabled = false;
  }
}

function openMenu(id) {
  const post = state.posts.get(id).post;
  openSheet("More", (body) => {
    const why = make("div", { class: "dr-why", hidden: true },
      make("p", { class: "dr-sheet-text", text: "You're seeing this video because:" }),
      make("ul", {}, ...(post.reasons.length ? post.reasons : ["it is new on Dreamreel"]).map((r) => make("li", { text: r }))));
    body.append(
      make("button", { class: "dr-menu-item dr-why-button", text: "Why you're seeing this", onclick: () => { why.hidden = !why.hidden; } }),
      why,
      make("button", { class: "dr-menu-item dr-report-button", text: "Report", onclick: () => openReport(id) }));
    if (post.draft && post.author === state.me) {
      body.append(
        make("button", { class: "dr-menu-item dr-publish-public", text: "Publish to everyone", onclick: () => { closeSheet(); trigger("publish", { id, visibility: "public" }); } }),
        make("button", { class: "dr-menu-item dr-publish-friends", text: "Publish to friends", onclick: () => { closeSheet(); trigger("publish", { id, visibility: "friends" }); } }));
    }
    if (post.can_delete) body.append(make("button", { class: "dr-menu-item dr-delete", text: post.author === state.me ? "Delete" : "Delete this video", onclick: () => {
      openSheet("Delete this video?", (b) => {
        b.append(make("p", { class: "dr-sheet-text", text: post.author === state.me ? "It is deleted for everyone, with its files." : `It stars your cameo, so you may delete it. @${post.author} made it; it is deleted for everyone.` }),
          make("button", { class: "dr-primary dr-confirm-delete", text: "Delete", onclick: () => { closeSheet(); trigger("delete", { id }); } }));
      });
    } }));
    if (post.prompt !== null && post.author !== state.me) body.append(make("button", { class: "dr-menu-item dr-less",
      text: "See less like this", onclick: () => { if (!needsAccount("tune your feed")) { closeSheet(); trigger("less", { id }); } } }));
  });
}

function openReport(id) {
  if (needsAccount("report videos")) return;
  openSheet("Report this video", (body) => {
    body.append(make("p", { class: "dr-sheet-text", text: "Why are you reporting it? The moderators will look at it." }));
    const choices = make("div", { class: "dr-reasons", role: "radiogroup" });
    for (const reason of state.reportReasons) {
      choices.append(make("label", { class: "dr-reason" },
        make("input", { type: "radio", name: "dr-reason", value: reason }), make("span", { text: reason })));
    }
    const confirm = make("button", { class: "dr-primary dr-confirm-report", text: "Report", disabled: true, onclick: () => {
      const picked = choices.querySelector("input:checked");
      if (picked) trigger("report", { id, reason: picked.value });
    } });
    choices.addEventListener("change", () => { confirm.disabled = !choices.querySelector("input:checked"); });
    body.append(choices, confirm);
  });
}

// -- messages from Python --------------------------------------------------------------------------------

function place(post, after) {
  if (state.posts.has(post.id)) { update(post); return state.posts.get(post.id).slide; }
  const slide = buildSlide(post);
  fillSlide(slide, post);
  state.posts.set(post.id, { post, slide });
  if (after) after.after(slide); else list.append(slide);
  watching.observe(slide);
  return slide;
}

function addPosts(posts) {
  for (const post of posts) place(post, null);
}

function update(post) {
  const entry = state.posts.get(post.id);
  if (!entry) return;
  entry.post = { ...entry.post, ...post };
  fillSlide(entry.slide, entry.post);
}

function remove(id) {
  const entry = state.posts.get(id);
  if (!entry) return;
  watching.unobserve(entry.slide);
  const next = entry.slide.nextElementSibling || entry.slide.previousElementSibling;
  entry.slide.remove();
  state.posts.delete(id);
  if (next) next.scrollIntoView();
  showEmpty();
}

function showEmpty() {
  const empty = root.querySelector(".dr-empty");
  const people = empty.querySelector(".dr-people");
  people.replaceChildren(...(state.suggestions || []).map((person) => make("div", { class: "dr-person" },
    make("div", { class: "dr-person-avatar", "aria-hidden": "true", text: (person.name || person.handle).slice(0, 1).toUpperCase() }),
    make("button", { class: "dr-author", text: `@${person.handle}`, onclick: () => trigger("profile", { handle: person.handle }) }),
    make("span", { class: "dr-person-why", text: person.reason }),
    make("button", { class: "dr-primary dr-follow", text: "Follow", onclick: () => trigger("follow", { handle: person.handle }) }))));
  const showPeople = (state.suggestions || []).length > 0;
  people.hidden = !showPeople;
  empty.hidden = state.posts.size > 0 && !showPeople;
  empty.classList.toggle("dr-with-posts", state.posts.size > 0);
}

function showFeeds() {
  tabs.replaceChildren(...state.feeds.map((name) => make("button", {
    class: `dr-feed${name === state.feed ? " dr-on" : ""}`, text: name, "aria-pressed": String(name === state.feed),
    onclick: () => { if (name !== "Following" || !needsAccount("see the people you follow")) trigger("feed", { which: name }); } })),
    make("button", { class: `dr-feed dr-tune${state.wishes ? " dr-tuned" : ""}`, text: "Tune", "aria-label": "Tune my feed",
      title: state.wishes ? `Tuned: ${state.wishes}` : "Tune my feed", onclick: openTune }));
}

function openTune() {
  if (needsAccount("tune your feed")) return;
  openSheet("Tune my feed", (body) => {
    body.append(make("p", { class: "dr-sheet-text", text: "Tell your feed what you want, in your own words. It changes For you, and \"Why you're seeing this\" will say so." }));
    const box = make("textarea", { class: "dr-input dr-wishes", rows: 2, maxlength: 500, placeholder: "more space and skating, fewer cats", "aria-label": "What you want more or less of" });
    box.value = state.wishes;
    body.append(box, make("div", { class: "dr-sheet-actions" },
      make("button", { class: "dr-primary dr-save-wishes", text: "Save", onclick: () => { trigger("tune", { text: box.value }); closeSheet(); } }),
      state.wishes ? make("button", { class: "dr-menu-item dr-clear-wishes", text: "Back to normal", onclick: () => { trigger("tune", { text: "" }); closeSheet(); } }) : null));
    setTimeout(() => box.focus(), 0);
  });
}

function showBanner(message) {
  banner.replaceChildren();
  banner.hidden = !message.banner;
  if (!message.banner) return;
  banner.append(make("span", { text: message.banner }));
  if (!state.signedIn) banner.append(make("button", { class: "dr-primary dr-join", text: "Join with an invite",
    onclick: () => trigger("join", {}) }));
  banner.append(make("button", { class: "dr-close", "aria-label": "Close", text: "✕", onclick: () => { banner.hidden = true; } }));
}

function apply(message) {
  if (!message || message.seq === state.seq) return;
  state.seq = message.seq;
  if (message.op === "page") {
    state.signedIn = message.signed_in;
    state.me = message.me;
    state.feeds = message.feeds;
    state.feed = message.feed;
    state.reportReasons = message.report_reasons;
    state.wishes = message.wishes || "";
    state.breakAfter = message.break_after || 0;
    if (!message.append) state.suggestions = message.suggestions || [];
    if (!message.append) {
      closeSheet();
      for (const { slide } of state.posts.values()) watching.unobserve(slide);
      state.posts.clear();
      list.replaceChildren();
      list.scrollTop = 0;
    }
    addPosts(message.posts);
    state.more = message.more;
    state.askedMore = false;
    showFeeds();
    if (!message.append) showBanner(message);
    showEmpty();
    root.querySelector(".dr-empty-text").textContent = message.empty_text || "";
  } else if (message.op === "post") {
    update(message.post);
  } else if (message.op === "comments") {
    update({ id: message.id, comments: message.comments.length });
    showComments(message);
  } else if (message.op === "show") {
    // A video opened from another (a remix's source): it plays next, right after the one in view.
    place(message.post, state.active).scrollIntoView({ behavior: "smooth" });
  } else if (message.op === "remove") {
    closeSheet();
    remove(message.id);
  }
  if (message.toast) toast(message.toast);
}

apply(props.value);
watch("value", () => apply(props.value));
